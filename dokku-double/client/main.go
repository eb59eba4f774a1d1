// The forced command's last step on the Dokku test host: instead of starting
// Node for every command, it hands the command to the host's long-running
// daemon (dokku-double/cli/daemon.ts) over a unix socket and plays the client's
// side of the session: argv and environment out, stdin on request, stdout,
// stderr and the exit code back. It also does what only a process inside the
// SSH session can do: take the state directory's flock when the daemon asks
// (so test-side fault arming keeps working unchanged), and kill its own sshd
// session process when a fault drops the connection.
//
// Usage (from dokku-double/dokku): client <socket> <state dir> <argv...>
package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// Frame types; the daemon's side is in dokku-double/cli/daemonProtocol.ts.
const (
	frameRequest = 'R' // client → daemon: the command (JSON)
	frameLock    = 'L' // daemon → client: take the flock; client → daemon: taken
	frameUnlock  = 'U' // daemon → client: release the flock
	frameRead    = 'I' // daemon → client: "line" or "all"; client → daemon: stdin bytes
	frameEOF     = 'E' // client → daemon: stdin ended
	frameStdout  = 'O'
	frameStderr  = 'e'
	frameExit    = 'X' // daemon → client: decimal exit code
	frameDrop    = 'D' // daemon → client: the fault drops the connection
)

type request struct {
	Argv     []string          `json:"argv"`
	Env      map[string]string `json:"env"`
	StdinTty bool              `json:"stdinTty"`
}

func writeFrame(w io.Writer, kind byte, payload []byte) error {
	header := make([]byte, 5)
	header[0] = kind
	binary.BigEndian.PutUint32(header[1:], uint32(len(payload)))
	if _, err := w.Write(append(header, payload...)); err != nil {
		return err
	}
	return nil
}

func readFrame(r io.Reader) (byte, []byte, error) {
	header := make([]byte, 5)
	if _, err := io.ReadFull(r, header); err != nil {
		return 0, nil, err
	}
	payload := make([]byte, binary.BigEndian.Uint32(header[1:]))
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return header[0], payload, nil
}

func isTty(fd uintptr) bool {
	var termios syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCGETS, uintptr(unsafe.Pointer(&termios)))
	return errno == 0
}

// sendStdin answers a read request: one line byte by byte (nothing after the
// newline is consumed, like bash `read`), or everything to EOF.
func sendStdin(conn net.Conn, mode string) error {
	if mode == "line" {
		var line []byte
		one := make([]byte, 1)
		for {
			n, err := os.Stdin.Read(one)
			if n == 1 {
				line = append(line, one[0])
				if one[0] == '\n' {
					return writeFrame(conn, frameRead, line)
				}
			}
			if err != nil {
				if werr := writeFrame(conn, frameRead, line); werr != nil {
					return werr
				}
				return writeFrame(conn, frameEOF, nil)
			}
		}
	}
	buffer := make([]byte, 64*1024)
	for {
		n, err := os.Stdin.Read(buffer)
		if n > 0 {
			if werr := writeFrame(conn, frameRead, buffer[:n]); werr != nil {
				return werr
			}
		}
		if err != nil {
			return writeFrame(conn, frameEOF, nil)
		}
	}
}

// parentOf reads the parent pid and command name of pid from /proc.
func parentOf(pid int) (int, string, bool) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, "", false
	}
	// Field 2 is "(comm)" and may contain spaces; the fields after the last ")" are fixed.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(fields) < 2 {
		return 0, "", false
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return 0, "", false
	}
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return 0, "", false
	}
	return ppid, strings.TrimSpace(string(comm)), true
}

// dropConnection kills the per-connection sshd process (it runs as this same
// user after privilege separation), so the client sees the connection die
// without an exit status: ssh exits 255, exactly like a network failure. On the
// root shell path the kill is not permitted; the root-side wrapper sees 255.
func dropConnection() {
	pid := os.Getppid()
	for hops := 0; hops < 16 && pid > 1; hops++ {
		ppid, comm, ok := parentOf(pid)
		if !ok {
			break
		}
		if strings.HasPrefix(comm, "sshd") {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			break
		}
		pid = ppid
	}
	os.Exit(255)
}

// forwardedEnv is what the entry script exported for the command (global
// flags, the raw SSH command, its start time) and who runs it.
func forwardedEnv() map[string]string {
	env := map[string]string{}
	for _, entry := range os.Environ() {
		name, value, _ := strings.Cut(entry, "=")
		if strings.HasPrefix(name, "DOKKU_") || name == "SSH_USER" {
			env[name] = value
		}
	}
	return env
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "dokku-double client: "+format+"\n", args...)
	os.Exit(70)
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: client <socket> <state dir> <argv...>")
	}
	socket, stateDir := os.Args[1], os.Args[2]
	conn, err := net.Dial("unix", socket)
	if err != nil {
		fail("cannot reach the double's daemon at %s: %v (is the test host running?)", socket, err)
	}
	body, err := json.Marshal(request{Argv: append([]string{}, os.Args[3:]...), Env: forwardedEnv(), StdinTty: isTty(0)})
	if err != nil {
		fail("%v", err)
	}
	if err := writeFrame(conn, frameRequest, body); err != nil {
		fail("sending the command: %v", err)
	}
	lockFd := -1
	for {
		kind, payload, err := readFrame(conn)
		if err != nil {
			fail("the daemon ended the session without an exit code: %v", err)
		}
		switch kind {
		case frameLock:
			lockFd, err = syscall.Open(stateDir, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
			if err == nil {
				err = syscall.Flock(lockFd, syscall.LOCK_EX)
			}
			if err != nil {
				fail("flock %s: %v", stateDir, err)
			}
			if err := writeFrame(conn, frameLock, nil); err != nil {
				fail("%v", err)
			}
		case frameUnlock:
			if lockFd >= 0 {
				_ = syscall.Close(lockFd)
				lockFd = -1
			}
		case frameRead:
			if err := sendStdin(conn, string(payload)); err != nil {
				fail("forwarding stdin: %v", err)
			}
		case frameStdout:
			_, _ = os.Stdout.Write(payload)
		case frameStderr:
			_, _ = os.Stderr.Write(payload)
		case frameDrop:
			dropConnection()
		case frameExit:
			code, err := strconv.Atoi(string(payload))
			if err != nil {
				fail("bad exit code from the daemon: %q", payload)
			}
			os.Exit(code)
		default:
			fail("unknown frame %q from the daemon", kind)
		}
	}
}
