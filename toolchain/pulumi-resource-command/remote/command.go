// Package remote implements `command:remote:Command`: a command run over SSH when
// the resource is created, updated or deleted, with the same inputs and outputs
// as Pulumi's command provider so that @pulumi/command's SDK drives it unchanged.
package remote

import (
	"context"
	"maps"
	"reflect"
	"slices"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
)

// Command is the resource controller.
type Command struct{}

// Logging selects which of a command's streams are shown in Pulumi's output.
// They are captured into the stdout/stderr outputs whatever this says.
type Logging string

const (
	LogStdout          Logging = "stdout"
	LogStderr          Logging = "stderr"
	LogStdoutAndStderr Logging = "stdoutAndStderr"
	LogNone            Logging = "none"
)

// CommandArgs are the resource's inputs.
type CommandArgs struct {
	Connection             Connection        `pulumi:"connection" provider:"secret"`
	Environment            map[string]string `pulumi:"environment,optional"`
	Triggers               []any             `pulumi:"triggers,optional"`
	Create                 *string           `pulumi:"create,optional"`
	Update                 *string           `pulumi:"update,optional"`
	Delete                 *string           `pulumi:"delete,optional"`
	Stdin                  *string           `pulumi:"stdin,optional"`
	Logging                *Logging          `pulumi:"logging,optional"`
	AddPreviousOutputInEnv *bool             `pulumi:"addPreviousOutputInEnv,optional"`
}

// CommandState is what the engine checkpoints: the inputs plus the captured streams.
type CommandState struct {
	CommandArgs
	Stdout string `pulumi:"stdout"`
	Stderr string `pulumi:"stderr"`
}

func (c *Command) Annotate(a infer.Annotator) {
	a.Describe(c, "A command to run on a remote host. The connection is established via ssh.")
}

func (a *CommandArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.Connection, "The parameters with which to connect to the remote host.")
	an.Describe(&a.Environment, "Additional environment variables available to the command's process. "+
		"They reach the process only if the SSH server accepts them (AcceptEnv).")
	an.Describe(&a.Triggers, "The resource will be updated (or replaced, when no update command is given) "+
		"if any of these values change.")
	an.Describe(&a.Create, "The command to run once on resource creation.")
	an.Describe(&a.Update, "The command to run when the resource is updated. If empty, create runs instead.")
	an.Describe(&a.Delete, "The command to run on resource deletion.")
	an.Describe(&a.Stdin, "Pass a string to the command's process as standard in.")
	an.Describe(&a.Logging, "Which streams are logged: stdout, stderr, stdoutAndStderr (default) or none.")
	an.Describe(&a.AddPreviousOutputInEnv, "Whether the previous stdout/stderr are offered to the next run "+
		"as PULUMI_COMMAND_STDOUT/PULUMI_COMMAND_STDERR. Defaults to true.")
}

func (s *CommandState) Annotate(a infer.Annotator) {
	a.Describe(&s.Stdout, "The standard output of the command's process.")
	a.Describe(&s.Stderr, "The standard error of the command's process.")
}

// WireDependencies makes the captured streams secret whenever what produced them
// was: a secret command line or stdin must not leak through its echo.
func (*Command) WireDependencies(f infer.FieldSelector, args *CommandArgs, state *CommandState) {
	sources := []infer.InputField{
		f.InputField(&args.Create), f.InputField(&args.Update), f.InputField(&args.Stdin),
		f.InputField(&args.Environment), f.InputField(&args.Triggers), f.InputField(&args.Connection),
	}
	f.OutputField(&state.Stdout).DependsOn(sources...)
	f.OutputField(&state.Stderr).DependsOn(sources...)
}

func (Command) Create(ctx context.Context, req infer.CreateRequest[CommandArgs]) (infer.CreateResponse[CommandState], error) {
	state := CommandState{CommandArgs: req.Inputs}
	if req.DryRun || req.Inputs.Create == nil || adopting() {
		return infer.CreateResponse[CommandState]{ID: req.Name, Output: state}, nil
	}
	out, err := run(ctx, req.Inputs, *req.Inputs.Create, nil)
	state.Stdout, state.Stderr = out.stdout, out.stderr
	if err != nil {
		// Report the partial state so nothing created before the failure is forgotten.
		return infer.CreateResponse[CommandState]{ID: req.Name, Output: state}, infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	return infer.CreateResponse[CommandState]{ID: req.Name, Output: state}, nil
}

func (Command) Update(ctx context.Context, req infer.UpdateRequest[CommandArgs, CommandState]) (infer.UpdateResponse[CommandState], error) {
	state := CommandState{CommandArgs: req.Inputs, Stdout: req.State.Stdout, Stderr: req.State.Stderr}
	script := req.Inputs.Update
	if script == nil {
		script = req.Inputs.Create
	}
	if req.DryRun || script == nil {
		return infer.UpdateResponse[CommandState]{Output: state}, nil
	}
	if adopting() {
		return infer.UpdateResponse[CommandState]{Output: req.State}, errAdoptChanges
	}
	out, err := run(ctx, req.Inputs, *script, &req.State)
	state.Stdout, state.Stderr = out.stdout, out.stderr
	return infer.UpdateResponse[CommandState]{Output: state}, err
}

func (Command) Delete(ctx context.Context, req infer.DeleteRequest[CommandState]) (infer.DeleteResponse, error) {
	if req.State.Delete == nil {
		return infer.DeleteResponse{}, nil
	}
	if adopting() {
		return infer.DeleteResponse{}, errAdoptChanges
	}
	_, err := run(ctx, req.State.CommandArgs, *req.State.Delete, &req.State)
	return infer.DeleteResponse{}, err
}

// Diff: any changed input updates in place (running update, or create again);
// changed triggers replace the resource unless an update command can absorb them.
func (Command) Diff(_ context.Context, req infer.DiffRequest[CommandArgs, CommandState]) (infer.DiffResponse, error) {
	old, next := fieldsOf(req.State.CommandArgs), fieldsOf(req.Inputs)
	diff := map[string]p.PropertyDiff{}
	for _, name := range slices.Sorted(maps.Keys(next)) {
		if reflect.DeepEqual(old[name], next[name]) {
			continue
		}
		kind := p.Update
		if name == "triggers" && req.Inputs.Update == nil {
			kind = p.UpdateReplace
		}
		diff[name] = p.PropertyDiff{Kind: kind, InputDiff: true}
	}
	return infer.DiffResponse{HasChanges: len(diff) > 0, DetailedDiff: diff}, nil
}

// fieldsOf maps each input's schema name to its value, so Diff compares by name.
func fieldsOf(a CommandArgs) map[string]any {
	return map[string]any{
		"connection":             a.Connection,
		"environment":            a.Environment,
		"triggers":               a.Triggers,
		"create":                 a.Create,
		"update":                 a.Update,
		"delete":                 a.Delete,
		"stdin":                  a.Stdin,
		"logging":                a.Logging,
		"addPreviousOutputInEnv": a.AddPreviousOutputInEnv,
	}
}
