// pulumi-resource-command is the `command` resource provider that @pulumi/command
// drives. Pulumi's own provider module (github.com/pulumi/pulumi-command/provider)
// is published only under pseudo-versions, which the Go module proxy reachable
// here refuses, so the project builds this implementation of the same schema
// (`command:remote:Command`) from modules the proxy does serve.
package main

import (
	"context"
	"fmt"
	"os"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"mindroom.cloud/toolchain/pulumi-resource-command/remote"
)

// Version is stamped at build time (-X main.Version=...) to the version that
// @pulumi/command asks the engine for.
var Version = "0.0.0-dev"

// newProvider is the provider the engine talks to: its schema is what
// @pulumi/command's SDK was generated from (schema_test.go holds them together).
func newProvider() (p.Provider, error) {
	return infer.NewProviderBuilder().
		WithNamespace("pulumi").
		WithDisplayName("Command").
		WithDescription("Run commands on remote hosts over SSH.").
		WithResources(infer.Resource(remote.Command{})).
		Build()
}

func main() {
	exitWithEngine()
	provider, err := newProvider()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := provider.Run(context.Background(), "command", Version); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
