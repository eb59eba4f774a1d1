package remote

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
)

func ptr[T any](v T) *T { return &v }

// failure is what an error tells the operator: a failed create's reasons included.
func failure(err error) string {
	var initFailed infer.ResourceInitFailedError
	if errors.As(err, &initFailed) {
		return strings.Join(initFailed.Reasons, "\n")
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

func create(t *testing.T, args CommandArgs) (CommandState, error) {
	t.Helper()
	res, err := Command{}.Create(context.Background(), infer.CreateRequest[CommandArgs]{Name: "cmd", Inputs: args})
	return res.Output, err
}

func TestCreateRunsTheCommandAndCapturesItsStreams(t *testing.T) {
	s := startServer(t)
	state, err := create(t, CommandArgs{
		Connection:  s.connection(),
		Create:      ptr("echo out; echo err >&2; echo \"$GREETING\""),
		Environment: map[string]string{"GREETING": "hello"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if state.Stdout != "out\nhello" || state.Stderr != "err" {
		t.Fatalf("streams: stdout %q, stderr %q", state.Stdout, state.Stderr)
	}
	runs := s.recorded()
	if len(runs) != 1 || runs[0].env["GREETING"] != "hello" {
		t.Fatalf("runs: %+v", runs)
	}
}

func TestCreateInAPreviewOrWithoutACommandRunsNothing(t *testing.T) {
	s := startServer(t)
	res, err := Command{}.Create(context.Background(), infer.CreateRequest[CommandArgs]{
		Name: "cmd", DryRun: true, Inputs: CommandArgs{Connection: s.connection(), Create: ptr("touch x")},
	})
	if err != nil || res.ID != "cmd" {
		t.Fatalf("dry run: %v %+v", err, res)
	}
	if _, err := create(t, CommandArgs{Connection: s.connection()}); err != nil {
		t.Fatal(err)
	}
	if n := s.connections.Load(); n != 0 {
		t.Fatalf("%d connections for nothing to run", n)
	}
}

func TestAFailedCreateReportsExitStatusAndStreamsButNeverTheCommand(t *testing.T) {
	s := startServer(t)
	secret := "hunter2-secret-token"
	state, err := create(t, CommandArgs{
		Connection: s.connection(),
		Create:     ptr("echo partial; echo broken >&2; exit 3 # " + secret),
	})
	var initFailed infer.ResourceInitFailedError
	if err == nil || !errors.As(err, &initFailed) {
		t.Fatalf("want ResourceInitFailedError, got %v", err)
	}
	msg := strings.Join(initFailed.Reasons, "\n")
	for _, want := range []string{"status 3", "stdout: partial", "stderr: broken"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, secret) {
		t.Errorf("error quotes the command: %q", msg)
	}
	// The partial state is kept, so the engine remembers the resource.
	if state.Stdout != "partial" {
		t.Errorf("partial stdout %q", state.Stdout)
	}
}

func TestUpdateRunsUpdateOrCreateWithThePreviousOutput(t *testing.T) {
	s := startServer(t)
	previous := CommandState{Stdout: "v1", Stderr: "warn1"}
	update := func(args CommandArgs) CommandState {
		t.Helper()
		previous.CommandArgs = args
		res, err := Command{}.Update(context.Background(), infer.UpdateRequest[CommandArgs, CommandState]{
			ID: "cmd", State: previous, Inputs: args,
		})
		if err != nil {
			t.Fatal(err)
		}
		return res.Output
	}
	got := update(CommandArgs{Connection: s.connection(), Create: ptr("echo created"), Update: ptr(`echo "was $PULUMI_COMMAND_STDOUT/$PULUMI_COMMAND_STDERR"`)})
	if got.Stdout != "was v1/warn1" {
		t.Fatalf("update: %q", got.Stdout)
	}
	got = update(CommandArgs{Connection: s.connection(), Create: ptr("echo created again")})
	if got.Stdout != "created again" {
		t.Fatalf("create as update: %q", got.Stdout)
	}
	got = update(CommandArgs{Connection: s.connection(), Create: ptr(`echo "[$PULUMI_COMMAND_STDOUT]"`), AddPreviousOutputInEnv: ptr(false)})
	if got.Stdout != "[]" {
		t.Fatalf("without the previous output: %q", got.Stdout)
	}
	// A preview changes nothing and keeps the recorded streams.
	res, err := Command{}.Update(context.Background(), infer.UpdateRequest[CommandArgs, CommandState]{
		ID: "cmd", State: previous, Inputs: CommandArgs{Connection: s.connection(), Create: ptr("touch x")}, DryRun: true,
	})
	if err != nil || res.Output.Stdout != "v1" {
		t.Fatalf("dry run: %v %+v", err, res.Output)
	}
	if n := len(s.recorded()); n != 3 {
		t.Fatalf("%d runs, want 3", n)
	}
}

func TestDeleteRunsTheDeleteCommandOnlyWhenThereIsOne(t *testing.T) {
	s := startServer(t)
	state := CommandState{CommandArgs: CommandArgs{Connection: s.connection(), Create: ptr("true")}, Stdout: "made"}
	if _, err := (Command{}).Delete(context.Background(), infer.DeleteRequest[CommandState]{ID: "cmd", State: state}); err != nil {
		t.Fatal(err)
	}
	if n := s.connections.Load(); n != 0 {
		t.Fatalf("%d connections without a delete command", n)
	}
	state.Delete = ptr(`test "$PULUMI_COMMAND_STDOUT" = made`)
	if _, err := (Command{}).Delete(context.Background(), infer.DeleteRequest[CommandState]{ID: "cmd", State: state}); err != nil {
		t.Fatal(err)
	}
	state.Delete = ptr("exit 1")
	if _, err := (Command{}).Delete(context.Background(), infer.DeleteRequest[CommandState]{ID: "cmd", State: state}); err == nil {
		t.Fatal("a failing delete must fail")
	}
}

func TestStdinReachesTheProcess(t *testing.T) {
	s := startServer(t)
	state, err := create(t, CommandArgs{Connection: s.connection(), Create: ptr("cat"), Stdin: ptr("secret material\n")})
	if err != nil {
		t.Fatal(err)
	}
	if state.Stdout != "secret material" {
		t.Fatalf("stdout %q", state.Stdout)
	}
	if runs := s.recorded(); len(runs) != 1 || runs[0].stdin != "secret material\n" || strings.Contains(runs[0].command, "secret") {
		t.Fatalf("runs: %+v", runs)
	}
}

func TestDiffUpdatesInPlaceAndReplacesOnTriggersWithoutAnUpdateCommand(t *testing.T) {
	conn := Connection{Host: "h"}
	old := CommandState{CommandArgs: CommandArgs{Connection: conn, Create: ptr("a"), Triggers: []any{"1"}}}
	diff := func(next CommandArgs) p.DiffResponse {
		t.Helper()
		res, err := Command{}.Diff(context.Background(), infer.DiffRequest[CommandArgs, CommandState]{ID: "cmd", State: old, Inputs: next})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := diff(old.CommandArgs); res.HasChanges || len(res.DetailedDiff) != 0 {
		t.Fatalf("unchanged inputs: %+v", res)
	}
	res := diff(CommandArgs{Connection: conn, Create: ptr("b"), Triggers: []any{"1"}})
	if !res.HasChanges || res.DetailedDiff["create"].Kind != p.Update || len(res.DetailedDiff) != 1 {
		t.Fatalf("changed create: %+v", res)
	}
	res = diff(CommandArgs{Connection: conn, Create: ptr("a"), Triggers: []any{"2"}})
	if res.DetailedDiff["triggers"].Kind != p.UpdateReplace {
		t.Fatalf("changed triggers without update: %+v", res)
	}
	res = diff(CommandArgs{Connection: conn, Create: ptr("a"), Update: ptr("u"), Triggers: []any{"2"}})
	if res.DetailedDiff["triggers"].Kind != p.Update || res.DetailedDiff["update"].Kind != p.Update {
		t.Fatalf("changed triggers with update: %+v", res)
	}
	res = diff(CommandArgs{Connection: Connection{Host: "other"}, Create: ptr("a"), Triggers: []any{"1"}})
	if res.DetailedDiff["connection"].Kind != p.Update {
		t.Fatalf("changed connection: %+v", res)
	}
}

func TestTheHostKeyIsPinned(t *testing.T) {
	s := startServer(t)
	other := startServer(t)
	conn := s.connection()
	conn.HostKey = ptr(other.hostKeyLine())
	_, err := create(t, CommandArgs{Connection: conn, Create: ptr("touch pwned")})
	if !strings.Contains(failure(err), "host key mismatch") {
		t.Fatalf("another host key must be refused, got %v", err)
	}
	if runs := s.recorded(); len(runs) != 0 {
		t.Fatalf("ran on an unverified host: %+v", runs)
	}
	conn.HostKey = ptr("not a key")
	if _, err := create(t, CommandArgs{Connection: conn, Create: ptr("true")}); !strings.Contains(failure(err),
		"connection.hostKey is not an authorized_keys line") {
		t.Fatalf("a malformed host key must be named, got %v", err)
	}
	if _, err := create(t, CommandArgs{Connection: s.connection(), Create: ptr("true")}); err != nil {
		t.Fatalf("the pinned key: %v", err)
	}
}

func TestSecretsStayOutOfTheConnectionIdentity(t *testing.T) {
	s := startServer(t)
	conn := s.connection()
	conn.Password = ptr("p4ssw0rd-value")
	id := conn.identity()
	for _, secret := range []string{"p4ssw0rd-value", strings.Split(s.clientKeyPEM, "\n")[1]} {
		if strings.Contains(id, secret) {
			t.Fatalf("identity %q holds a secret", id)
		}
	}
	// A different credential is a different connection.
	other := s.connection()
	if other.identity() == id {
		t.Fatal("identities ignore the password")
	}
	if _, err := create(t, CommandArgs{Connection: Connection{Host: "127.0.0.1", Port: ptr(s.port()), AgentSocketPath: ptr("")}, Create: ptr("true")}); !strings.Contains(failure(err),
		"connection has no credentials") {
		t.Fatalf("no credentials must be named, got %v", err)
	}
}

func TestCommandsShareOneConnectionPerHostAndIdentity(t *testing.T) {
	s := startServer(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := create(t, CommandArgs{Connection: s.connection(), Create: ptr("true")})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := s.connections.Load(); n != 1 {
		t.Fatalf("%d connections for 8 commands, want 1", n)
	}
	// Another user is another identity: a connection of its own.
	conn := s.connection()
	conn.User = ptr("other")
	if _, err := create(t, CommandArgs{Connection: conn, Create: ptr("true")}); err != nil {
		t.Fatal(err)
	}
	if n := s.connections.Load(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
	// The host dropped the connection: the next command dials again.
	s.dropConnections()
	if _, err := create(t, CommandArgs{Connection: s.connection(), Create: ptr("echo back")}); err != nil {
		t.Fatalf("after a dropped connection: %v", err)
	}
	if n := s.connections.Load(); n != 3 {
		t.Fatalf("%d connections after the drop, want 3", n)
	}
}
