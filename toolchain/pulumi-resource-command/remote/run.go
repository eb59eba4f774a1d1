package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"golang.org/x/crypto/ssh"
)

type output struct{ stdout, stderr string }

// run executes one command line in a fresh SSH session on the host's shared
// connection (clients.go). The command text is never put into errors or logs:
// it may carry secrets.
func run(ctx context.Context, args CommandArgs, command string, previous *CommandState) (output, error) {
	log := p.GetLogger(ctx)
	session, release, err := args.Connection.session(ctx)
	if err != nil {
		return output{}, err
	}
	defer release()

	env := map[string]string{}
	for k, v := range args.Environment {
		env[k] = v
	}
	if previous != nil && (args.AddPreviousOutputInEnv == nil || *args.AddPreviousOutputInEnv) {
		env["PULUMI_COMMAND_STDOUT"] = previous.Stdout
		env["PULUMI_COMMAND_STDERR"] = previous.Stderr
	}
	for k, v := range env {
		if err := session.Setenv(k, v); err != nil {
			log.Warningf("Unable to set '%s'. This only works if your SSH server is configured to accept "+
				"these variables via AcceptEnv. Alternatively, if a Bash-like shell runs the command on the "+
				"remote host, you could prefix the command itself with the variables in the form 'VAR=value command'", k)
		}
	}
	if args.Stdin != nil {
		session.Stdin = strings.NewReader(*args.Stdin)
	}
	var stdout, stderr bytes.Buffer
	session.Stdout, session.Stderr = &stdout, &stderr

	done := make(chan error, 1)
	go func() { done <- session.Run(command) }()
	select {
	case <-ctx.Done():
		_ = session.Signal(ssh.SIGTERM)
		return output{stdout.String(), stderr.String()}, ctx.Err()
	case err = <-done:
	}
	out := output{strings.TrimSuffix(stdout.String(), "\n"), strings.TrimSuffix(stderr.String(), "\n")}
	logStreams(log, args.Logging, out)
	if err != nil {
		return out, describeFailure(err, out)
	}
	return out, nil
}

func logStreams(log p.Logger, logging *Logging, out output) {
	mode := LogStdoutAndStderr
	if logging != nil {
		mode = *logging
	}
	if (mode == LogStdout || mode == LogStdoutAndStderr) && out.stdout != "" {
		log.Info(out.stdout)
	}
	if (mode == LogStderr || mode == LogStdoutAndStderr) && out.stderr != "" {
		log.Info(out.stderr)
	}
}

func describeFailure(err error, out output) error {
	var exit *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case errors.As(err, &exit):
		return fmt.Errorf("Process exited with status %d\nstdout: %s\nstderr: %s", exit.ExitStatus(), out.stdout, out.stderr)
	case errors.As(err, &missing):
		return fmt.Errorf("the SSH connection was lost before the command reported an exit status\nstdout: %s\nstderr: %s",
			out.stdout, out.stderr)
	default:
		return fmt.Errorf("the command could not be run: %w", err)
	}
}
