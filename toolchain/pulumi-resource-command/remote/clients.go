package remote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/crypto/ssh"
)

// One SSH connection per host and identity for the provider's life (one engine
// run), each command in a session of its own on it. A connection costs the
// host a key exchange, an authentication and a fresh sshd process; an update
// runs a dozen or more commands against the same host, and the engine runs
// them in parallel, so they share it.
var clients = struct {
	sync.Mutex
	byKey map[string]*sharedClient
}{byKey: map[string]*sharedClient{}}

type sharedClient struct {
	// Held while dialing, so commands that start together share one dial.
	mu     sync.Mutex
	client *ssh.Client
}

// identity names everything that decides what the connection is allowed to do;
// only a digest of the secrets is kept.
func (c Connection) identity() string {
	h := sha256.New()
	for _, s := range []*string{c.User, c.Password, c.PrivateKey, c.PrivateKeyPassword, c.AgentSocketPath, c.HostKey} {
		if s == nil {
			h.Write([]byte{0})
		} else {
			h.Write([]byte{1})
			h.Write([]byte(*s))
		}
		h.Write([]byte{0xff})
	}
	return c.address() + " " + hex.EncodeToString(h.Sum(nil))
}

// session opens a session on the shared connection for c, dialing it first if
// needed; release closes the session (and a connection of its own, when it
// needed one).
func (c Connection) session(ctx context.Context) (session *ssh.Session, release func(), err error) {
	key := c.identity()
	clients.Lock()
	shared := clients.byKey[key]
	if shared == nil {
		shared = &sharedClient{}
		clients.byKey[key] = shared
	}
	clients.Unlock()

	for attempt := 0; attempt < 2; attempt++ {
		shared.mu.Lock()
		if shared.client == nil {
			client, err := c.dial(ctx)
			if err != nil {
				shared.mu.Unlock()
				return nil, nil, err
			}
			shared.client = client
		}
		client := shared.client
		shared.mu.Unlock()

		s, err := client.NewSession()
		if err == nil {
			return s, func() { _ = s.Close() }, nil
		}
		var refused *ssh.OpenChannelError
		if errors.As(err, &refused) {
			// The server allows no more sessions on this connection (sshd's MaxSessions,
			// 10 by default): this command gets a connection of its own.
			own, err := c.dial(ctx)
			if err != nil {
				return nil, nil, err
			}
			s, err := own.NewSession()
			if err != nil {
				_ = own.Close()
				return nil, nil, c.sessionError(err)
			}
			return s, func() { _ = s.Close(); _ = own.Close() }, nil
		}
		// The connection is gone (host restarted, network dropped): forget it and dial once more.
		shared.mu.Lock()
		if shared.client == client {
			shared.client = nil
			_ = client.Close()
		}
		shared.mu.Unlock()
		if attempt == 1 {
			return nil, nil, c.sessionError(err)
		}
	}
	return nil, nil, errors.New("unreachable")
}

func (c Connection) sessionError(err error) error {
	return fmt.Errorf("could not open an SSH session on %s: %w", c.address(), err)
}
