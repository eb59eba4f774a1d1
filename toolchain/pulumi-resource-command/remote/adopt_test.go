package remote

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/pulumi/pulumi-go-provider/infer"
)

func TestAdoptingRecordsTheInputsAndNeverConnects(t *testing.T) {
	s := startServer(t)
	t.Setenv(AdoptEnv, "1")
	args := CommandArgs{
		Connection:  s.connection(),
		Create:      ptr("dokku apps:create tenant-a"),
		Delete:      ptr("dokku apps:destroy tenant-a --force"),
		Environment: map[string]string{"A": "1"},
		Triggers:    []any{"digest"},
	}
	res, err := Command{}.Create(context.Background(), infer.CreateRequest[CommandArgs]{Name: "app", Inputs: args})
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != "app" || !reflect.DeepEqual(res.Output.CommandArgs, args) || res.Output.Stdout != "" {
		t.Fatalf("adopted state: %+v", res)
	}

	// Whatever is already in the stack is never changed or deleted while adopting.
	_, err = Command{}.Update(context.Background(), infer.UpdateRequest[CommandArgs, CommandState]{
		ID: "app", State: res.Output, Inputs: CommandArgs{Connection: s.connection(), Create: ptr("dokku apps:create b")},
	})
	if !errors.Is(err, errAdoptChanges) {
		t.Fatalf("update while adopting: %v", err)
	}
	_, err = Command{}.Delete(context.Background(), infer.DeleteRequest[CommandState]{ID: "app", State: res.Output})
	if !errors.Is(err, errAdoptChanges) {
		t.Fatalf("delete while adopting: %v", err)
	}
	if n := s.connections.Load(); n != 0 {
		t.Fatalf("%d connections while adopting", n)
	}
}

func TestOnlyTheExactValueTurnsAdoptingOn(t *testing.T) {
	s := startServer(t)
	t.Setenv(AdoptEnv, "true")
	if _, err := create(t, CommandArgs{Connection: s.connection(), Create: ptr("true")}); err != nil {
		t.Fatal(err)
	}
	if n := len(s.recorded()); n != 1 {
		t.Fatalf("%d runs, want the create to run", n)
	}
}
