package main

import (
	"io"
	"os"
	"time"
)

// exitWithEngine ends the provider when the engine that started it is gone. The
// engine stops its plugins itself when it exits normally, but a killed engine
// (SIGKILL, an OOM kill, a killed worker) sends nothing, and the SDK's own health
// check would notice only minutes later. Two signs of a dead engine: the stdin
// pipe it gives every plugin (and never writes to) reaches end of file, or the
// provider gets another parent.
func exitWithEngine() {
	parent := os.Getppid()
	if info, err := os.Stdin.Stat(); err == nil && info.Mode()&os.ModeNamedPipe != 0 {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			os.Exit(1)
		}()
	}
	go func() {
		for range time.Tick(time.Second) {
			if os.Getppid() != parent {
				os.Exit(1)
			}
		}
	}()
}
