package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/pulumi/pulumi-go-provider/infer"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// Connection says how to reach the remote host.
type Connection struct {
	Host               string   `pulumi:"host"`
	Port               *float64 `pulumi:"port,optional"`
	User               *string  `pulumi:"user,optional"`
	Password           *string  `pulumi:"password,optional" provider:"secret"`
	PrivateKey         *string  `pulumi:"privateKey,optional" provider:"secret"`
	PrivateKeyPassword *string  `pulumi:"privateKeyPassword,optional" provider:"secret"`
	AgentSocketPath    *string  `pulumi:"agentSocketPath,optional"`
	DialErrorLimit     *int     `pulumi:"dialErrorLimit,optional"`
	PerDialTimeout     *int     `pulumi:"perDialTimeout,optional"`
	HostKey            *string  `pulumi:"hostKey,optional"`
}

func (c *Connection) Annotate(a infer.Annotator) {
	a.Describe(&c.Host, "The address of the resource to connect to.")
	a.Describe(&c.Port, "The port to connect to. Defaults to 22.")
	a.SetDefault(&c.Port, 22.0)
	a.Describe(&c.User, "The user that we should use for the connection. Defaults to root.")
	a.SetDefault(&c.User, "root")
	a.Describe(&c.Password, "The password we should use for the connection.")
	a.Describe(&c.PrivateKey, "The contents of an SSH key to use for the connection.")
	a.Describe(&c.PrivateKeyPassword, "The password to use in case the private key is encrypted.")
	a.Describe(&c.AgentSocketPath, "SSH Agent socket path. Defaults to the SSH_AUTH_SOCK environment variable.")
	a.Describe(&c.DialErrorLimit, "Max allowed errors on trying to dial the remote host. -1 retries forever. Defaults to 10.")
	a.SetDefault(&c.DialErrorLimit, 10)
	a.Describe(&c.PerDialTimeout, "Max number of seconds for each dial attempt. Defaults to 15.")
	a.SetDefault(&c.PerDialTimeout, 15)
	a.Describe(&c.HostKey, "The expected host key (authorized_keys format). Unset, any host key is accepted.")
}

func (c Connection) address() string {
	port := 22
	if c.Port != nil {
		port = int(*c.Port)
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(port))
}

func (c Connection) clientConfig() (*ssh.ClientConfig, error) {
	user := "root"
	if c.User != nil {
		user = *c.User
	}
	timeout := 15 * time.Second
	if c.PerDialTimeout != nil {
		timeout = time.Duration(*c.PerDialTimeout) * time.Second
	}
	hostKeyCallback := ssh.InsecureIgnoreHostKey()
	if c.HostKey != nil && *c.HostKey != "" {
		key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(*c.HostKey))
		if err != nil {
			return nil, fmt.Errorf("connection.hostKey is not an authorized_keys line: %w", err)
		}
		hostKeyCallback = ssh.FixedHostKey(key)
	}
	var auth []ssh.AuthMethod
	if c.PrivateKey != nil && *c.PrivateKey != "" {
		signer, err := parseKey(*c.PrivateKey, c.PrivateKeyPassword)
		if err != nil {
			return nil, err
		}
		auth = append(auth, ssh.PublicKeys(signer))
	}
	if c.Password != nil && *c.Password != "" {
		auth = append(auth, ssh.Password(*c.Password))
	}
	if sock := c.agentSocket(); sock != "" {
		if conn, err := net.Dial("unix", sock); err == nil {
			auth = append(auth, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
		}
	}
	if len(auth) == 0 {
		return nil, errors.New("connection has no credentials: set privateKey, password or agentSocketPath")
	}
	return &ssh.ClientConfig{User: user, Auth: auth, HostKeyCallback: hostKeyCallback, Timeout: timeout}, nil
}

func (c Connection) agentSocket() string {
	if c.AgentSocketPath != nil {
		return *c.AgentSocketPath
	}
	return os.Getenv("SSH_AUTH_SOCK")
}

func parseKey(pem string, passphrase *string) (ssh.Signer, error) {
	if passphrase != nil && *passphrase != "" {
		signer, err := ssh.ParsePrivateKeyWithPassphrase([]byte(pem), []byte(*passphrase))
		if err != nil {
			return nil, fmt.Errorf("connection.privateKey could not be decrypted: %w", err)
		}
		return signer, nil
	}
	signer, err := ssh.ParsePrivateKey([]byte(pem))
	if err != nil {
		return nil, fmt.Errorf("connection.privateKey is not a usable private key: %w", err)
	}
	return signer, nil
}

// dial retries transient failures (a host still booting, a dropped SYN) up to
// dialErrorLimit times; authentication and host-key errors fail at once.
func (c Connection) dial(ctx context.Context) (*ssh.Client, error) {
	config, err := c.clientConfig()
	if err != nil {
		return nil, err
	}
	limit := 10
	if c.DialErrorLimit != nil {
		limit = *c.DialErrorLimit
	}
	var lastErr error
	for attempt := 1; limit < 0 || attempt <= limit; attempt++ {
		client, err := ssh.Dial("tcp", c.address(), config)
		if err == nil {
			return client, nil
		}
		lastErr = err
		var netErr net.Error
		if !errors.As(err, &netErr) && !errors.Is(err, os.ErrDeadlineExceeded) && !isConnRefused(err) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff(attempt)):
		}
	}
	return nil, fmt.Errorf("could not connect to %s: %w", c.address(), lastErr)
}

func isConnRefused(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr)
}

func backoff(attempt int) time.Duration {
	d := time.Duration(attempt) * 250 * time.Millisecond
	return min(d, 5*time.Second)
}
