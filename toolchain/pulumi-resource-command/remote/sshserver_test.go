package remote

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"
)

// testServer is an SSH server on loopback that runs each exec request with
// `sh -c` (its environment only what the client set), and records what it saw:
// connections accepted, command lines, environment and stdin. Tests observe the
// provider through it the way a host would.
type testServer struct {
	t        *testing.T
	listener net.Listener
	hostKey  ssh.Signer
	// clientKeyPEM is the private key the server accepts (OpenSSH PEM).
	clientKeyPEM string

	connections atomic.Int32
	mu          sync.Mutex
	runs        []serverRun
	live        []*ssh.ServerConn
}

type serverRun struct {
	command string
	env     map[string]string
	stdin   string
}

func newKey(t *testing.T) (ed25519.PrivateKey, ssh.Signer) {
	t.Helper()
	_, private, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(private)
	if err != nil {
		t.Fatal(err)
	}
	return private, signer
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	_, hostKey := newKey(t)
	clientPrivate, clientSigner := newKey(t)
	block, err := ssh.MarshalPrivateKey(clientPrivate, "")
	if err != nil {
		t.Fatal(err)
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{t: t, listener: listener, hostKey: hostKey, clientKeyPEM: string(pem.EncodeToMemory(block))}
	allowed := clientSigner.PublicKey().Marshal()
	config := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if bytes.Equal(key.Marshal(), allowed) {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	config.AddHostKey(hostKey)
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			go s.serve(conn, config)
		}
	}()
	t.Cleanup(func() {
		_ = listener.Close()
		s.dropConnections()
		// The provider's shared connections outlive a test; the next test dials its own server.
		forgetClients()
	})
	return s
}

func (s *testServer) serve(raw net.Conn, config *ssh.ServerConfig) {
	conn, channels, requests, err := ssh.NewServerConn(raw, config)
	if err != nil {
		_ = raw.Close()
		return
	}
	s.connections.Add(1)
	s.mu.Lock()
	s.live = append(s.live, conn)
	s.mu.Unlock()
	go ssh.DiscardRequests(requests)
	for newChannel := range channels {
		if newChannel.ChannelType() != "session" {
			_ = newChannel.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		channel, requests, err := newChannel.Accept()
		if err != nil {
			continue
		}
		go s.session(channel, requests)
	}
}

func (s *testServer) session(channel ssh.Channel, requests <-chan *ssh.Request) {
	defer channel.Close()
	env := map[string]string{}
	for req := range requests {
		switch req.Type {
		case "env":
			var kv struct{ Name, Value string }
			if ssh.Unmarshal(req.Payload, &kv) == nil {
				env[kv.Name] = kv.Value
			}
			_ = req.Reply(true, nil)
		case "exec":
			var cmd struct{ Command string }
			if err := ssh.Unmarshal(req.Payload, &cmd); err != nil {
				_ = req.Reply(false, nil)
				return
			}
			_ = req.Reply(true, nil)
			s.exec(channel, cmd.Command, env)
			return
		default:
			_ = req.Reply(false, nil)
		}
	}
}

func (s *testServer) exec(channel ssh.Channel, command string, env map[string]string) {
	var stdin bytes.Buffer
	proc := exec.Command("sh", "-c", command)
	for k, v := range env {
		proc.Env = append(proc.Env, k+"="+v)
	}
	proc.Stdin = io.TeeReader(channel, &stdin)
	proc.Stdout, proc.Stderr = channel, channel.Stderr()
	err := proc.Run()
	status := uint32(0)
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok {
			status = uint32(ws.ExitStatus())
		}
	} else if err != nil {
		status = 255
	}
	s.mu.Lock()
	s.runs = append(s.runs, serverRun{command: command, env: env, stdin: stdin.String()})
	s.mu.Unlock()
	payload := make([]byte, 4)
	binary.BigEndian.PutUint32(payload, status)
	_, _ = channel.SendRequest("exit-status", false, payload)
}

// dropConnections closes every connection the server accepted, as a host
// restart or a dropped network would.
func (s *testServer) dropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.live {
		_ = c.Close()
	}
	s.live = nil
}

func (s *testServer) recorded() []serverRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]serverRun(nil), s.runs...)
}

func (s *testServer) port() float64 {
	return float64(s.listener.Addr().(*net.TCPAddr).Port)
}

// hostKeyLine is the server's key in authorized_keys format, as a spec pins it.
func (s *testServer) hostKeyLine() string {
	return strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.hostKey.PublicKey())))
}

// connection reaches the server with its accepted key, pinning its host key.
func (s *testServer) connection() Connection {
	port := s.port()
	user := "deploy"
	key := s.clientKeyPEM
	hostKey := s.hostKeyLine()
	noAgent := ""
	limit := 1
	return Connection{Host: "127.0.0.1", Port: &port, User: &user, PrivateKey: &key, HostKey: &hostKey, AgentSocketPath: &noAgent, DialErrorLimit: &limit}
}

func forgetClients() {
	clients.Lock()
	defer clients.Unlock()
	for key, shared := range clients.byKey {
		shared.mu.Lock()
		if shared.client != nil {
			_ = shared.client.Close()
		}
		shared.mu.Unlock()
		delete(clients.byKey, key)
	}
}
