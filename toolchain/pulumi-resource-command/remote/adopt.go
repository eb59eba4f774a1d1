package remote

import (
	"errors"
	"os"
)

// AdoptEnv, set to "1" in the provider's environment, makes every create record
// its inputs without running anything: how a lost stack is rebuilt from its
// program for resources that are already on the host. A remote command has no
// Read (nothing on the host says which command created what), so `pulumi import`
// could only record empty inputs; letting the engine run the program with creates
// that record and do not run puts exactly the program's inputs into the state,
// so the next up with the same program has nothing to change. The engine passes
// its own environment to the plugins it starts, so one `up` gets the mode and
// nothing else does.
const AdoptEnv = "MINDROOM_COMMAND_ADOPT"

// errAdoptChanges is what an adopting run answers instead of running an update
// or a delete: those only happen when the stack was not empty, and adopting must
// never touch the host.
var errAdoptChanges = errors.New("adopting resources (" + AdoptEnv + "=1) only records creates; " +
	"this stack already holds the resource: run a normal up instead")

func adopting() bool { return os.Getenv(AdoptEnv) == "1" }
