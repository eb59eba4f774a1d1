package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/blang/semver"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
)

// The @pulumi/command SDK the project installs: its generated code is what the
// engine will send this provider, so the schema must name the same things.
var sdkDir = filepath.Join("..", "..", "node_modules", "@pulumi", "command")

// notImplemented lists what the SDK offers and this provider deliberately does
// not: a tenant's host is reached directly, never through a jump host.
var notImplemented = map[string]string{"proxy": "connection.proxy (jump hosts)"}

type property struct {
	Secret  bool `json:"secret"`
	Default any  `json:"default"`
}

type objectSchema struct {
	Properties      map[string]property `json:"properties"`
	Required        []string            `json:"required"`
	InputProperties map[string]property `json:"inputProperties"`
	RequiredInputs  []string            `json:"requiredInputs"`
}

func readSDK(t *testing.T, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(sdkDir, rel))
	if err != nil {
		t.Skipf("the @pulumi/command SDK is not installed (%v): ./platform setup installs it", err)
	}
	return string(data)
}

func matches(re, text string) []string {
	var out []string
	for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(text, -1) {
		if !slices.Contains(out, m[1]) {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func schema(t *testing.T) (resources, types map[string]objectSchema) {
	t.Helper()
	provider, err := newProvider()
	if err != nil {
		t.Fatal(err)
	}
	// The integration server gives the provider the run information the engine would.
	server, err := integration.NewServer(context.Background(), "command", semver.MustParse("0.0.0"),
		integration.WithProvider(provider))
	if err != nil {
		t.Fatal(err)
	}
	res, err := server.GetSchema(p.GetSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Resources map[string]objectSchema `json:"resources"`
		Types     map[string]objectSchema `json:"types"`
	}
	if err := json.Unmarshal([]byte(res.Schema), &spec); err != nil {
		t.Fatal(err)
	}
	return spec.Resources, spec.Types
}

func TestSchemaMatchesWhatThePulumiCommandSDKSends(t *testing.T) {
	command := readSDK(t, "remote/command.js")
	input := readSDK(t, "types/input.d.ts")
	inputJS := readSDK(t, "types/input.js")
	resources, types := schema(t)

	token := matches(`Command\.__pulumiType = '([^']+)'`, command)
	if !slices.Equal(token, []string{"command:remote:Command"}) {
		t.Fatalf("the SDK's Command is %v", token)
	}
	resource, ok := resources["command:remote:Command"]
	if !ok {
		t.Fatalf("the schema has no command:remote:Command: %v", keys(resources))
	}

	sdkInputs := matches(`resourceInputs\["(\w+)"\] = args\?\.`, command)
	if len(sdkInputs) < 5 {
		t.Fatalf("read only %v from the SDK's remote/command.js: has its generated code changed shape?", sdkInputs)
	}
	if got := keys(resource.InputProperties); !slices.Equal(got, sdkInputs) {
		t.Errorf("inputs: schema %v, SDK %v", got, sdkInputs)
	}
	for _, out := range matches(`resourceInputs\["(\w+)"\] = undefined /\*out\*/`, command) {
		if _, ok := resource.Properties[out]; !ok {
			t.Errorf("the SDK reads output %q, which the schema lacks", out)
		}
	}
	required := matches(`Missing required property '(\w+)'`, command)
	if got := append([]string(nil), resource.RequiredInputs...); !slices.Equal(sortedCopy(got), required) {
		t.Errorf("required inputs: schema %v, SDK %v", got, required)
	}
	for _, secret := range matches(`additionalSecretOutputs: \["(\w+)"\]`, command) {
		if !resource.InputProperties[secret].Secret || !resource.Properties[secret].Secret {
			t.Errorf("the SDK treats %q as secret; the schema does not", secret)
		}
	}

	connection, ok := types["command:remote:Connection"]
	if !ok {
		t.Fatalf("the schema has no command:remote:Connection: %v", keys(types))
	}
	block := regexp.MustCompile(`(?s)interface ConnectionArgs \{(.*?)\n    \}`).FindStringSubmatch(input)
	if block == nil {
		t.Fatal("types/input.d.ts has no ConnectionArgs")
	}
	var sdkFields []string
	for _, field := range matches(`(?m)^\s+(\w+)\??: pulumi\.Input`, block[1]) {
		if _, skip := notImplemented[field]; !skip {
			sdkFields = append(sdkFields, field)
		}
	}
	if got := keys(connection.Properties); !slices.Equal(got, sdkFields) {
		t.Errorf("connection fields: schema %v, SDK %v (not implemented on purpose: %v)", got, sdkFields, notImplemented)
	}
	for _, secret := range []string{"password", "privateKey", "privateKeyPassword"} {
		if !connection.Properties[secret].Secret {
			t.Errorf("connection.%s must be secret", secret)
		}
	}
	defaults := regexp.MustCompile(`(?s)function connectionArgsProvideDefaults\(val\) \{(.*?)\n    \}`).FindStringSubmatch(inputJS)
	if defaults == nil {
		t.Fatal("types/input.js has no connectionArgsProvideDefaults")
	}
	for _, m := range regexp.MustCompile(`(\w+): \(val\.\w+\) \?\? ("?[\w.]+"?)`).FindAllStringSubmatch(defaults[1], -1) {
		var want any
		if err := json.Unmarshal([]byte(m[2]), &want); err != nil {
			t.Fatal(err)
		}
		if got := connection.Properties[m[1]].Default; got != want {
			t.Errorf("connection.%s defaults to %v in the SDK, %v in the schema", m[1], want, got)
		}
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	slices.Sort(out)
	return out
}
