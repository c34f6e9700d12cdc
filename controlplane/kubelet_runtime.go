// What the kubelet-streaming component does once a stream is open: run a
// command inside a container's namespaces (exec), copy a TCP connection to a
// port inside the Pod's network namespace (port-forward), and follow a
// container's output (attach).
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"
)

// processGroups remembers the exec'd commands still running, so that a
// stopping server leaves none behind.
type processGroups struct {
	mu   sync.Mutex
	pids map[int]struct{}
}

func newProcessGroups() *processGroups { return &processGroups{pids: map[int]struct{}{}} }

func (g *processGroups) add(pid int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pids[pid] = struct{}{}
}

func (g *processGroups) remove(pid int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.pids, pid)
}

func (g *processGroups) killAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for pid := range g.pids {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// containerExec runs commands the way `kubectl exec` expects: inside the
// container's mount, UTS and network namespaces, root and working directory,
// with the environment the container's process started with.
type containerExec struct {
	pod       *podInfo
	container *containerInfo
	groups    *processGroups
}

// processEnv reads the environment a process was started with.
func processEnv(pid int) ([]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return nil, err
	}
	var env []string
	for _, item := range bytes.Split(data, []byte{0}) {
		if len(item) > 0 {
			env = append(env, string(item))
		}
	}
	return env, nil
}

func (e *containerExec) command(cmd []string) (*exec.Cmd, error) {
	env, err := processEnv(e.container.PID)
	if err != nil {
		return nil, fmt.Errorf("container process %d is gone: %w", e.container.PID, err)
	}
	// --root and --wd without a value take the target's root and working directory.
	args := []string{"--target", strconv.Itoa(e.container.PID), "--mount", "--uts", "--net", "--root", "--wd", "--"}
	c := exec.Command("nsenter", append(args, cmd...)...)
	c.Env = env
	return c, nil
}

// ExecInContainer implements remotecommand.Executor.
func (e *containerExec) ExecInContainer(ctx context.Context, _, _, _ string, cmd []string, in io.Reader,
	out, errOut io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize, _ time.Duration) error {
	c, err := e.command(cmd)
	if err != nil {
		return err
	}
	if tty {
		return e.runTTY(c, in, out, resize)
	}
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if out != nil {
		c.Stdout = out
	}
	if errOut != nil {
		c.Stderr = errOut
	}
	// Feed stdin through a pipe of our own: exec.Cmd would otherwise wait for
	// the client's stdin to end even after the command has exited.
	var stdin *os.File
	if in != nil {
		reader, writer, err := os.Pipe()
		if err != nil {
			return err
		}
		defer reader.Close()
		c.Stdin, stdin = reader, writer
	}
	if err := c.Start(); err != nil {
		if stdin != nil {
			stdin.Close()
		}
		return err
	}
	e.groups.add(c.Process.Pid)
	defer e.groups.remove(c.Process.Pid)
	if stdin != nil {
		go func() {
			_, _ = io.Copy(stdin, in)
			stdin.Close()
		}()
	}
	err = c.Wait()
	if stdin != nil {
		stdin.Close()
	}
	return exitError(err)
}

// runTTY runs the command on a new pseudo-terminal; stderr goes to the terminal too.
func (e *containerExec) runTTY(c *exec.Cmd, in io.Reader, out io.Writer, resize <-chan remotecommand.TerminalSize) error {
	terminal, err := pty.Start(c)
	if err != nil {
		return err
	}
	defer terminal.Close()
	e.groups.add(c.Process.Pid)
	defer e.groups.remove(c.Process.Pid)
	if resize != nil {
		go func() {
			for size := range resize {
				_ = pty.Setsize(terminal, &pty.Winsize{Rows: size.Height, Cols: size.Width})
			}
		}()
	}
	if in != nil {
		go func() { _, _ = io.Copy(terminal, in) }()
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		if out != nil {
			_, _ = io.Copy(out, terminal) // ends with EIO once no process holds the terminal
		} else {
			_, _ = io.Copy(io.Discard, terminal)
		}
	}()
	err = c.Wait()
	select {
	case <-copied:
	case <-time.After(2 * time.Second): // a background job still holds the terminal
	}
	return exitError(err)
}

// exitError turns a command's exit into the error remotecommand reports as an exit code.
func exitError(err error) error {
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		return err
	}
	code := exitErr.ExitCode()
	if status, ok := exitErr.Sys().(syscall.WaitStatus); ok && status.Signaled() {
		code = 128 + int(status.Signal())
	}
	return utilexec.CodeExitError{Err: err, Code: code}
}

// podForward copies port-forward streams to localhost:port in the Pod's
// network namespace, as the kubelet does, so servers bound to 127.0.0.1
// inside the Pod are reachable too.
type podForward struct {
	pod *podInfo
}

// PortForward implements portforward.PortForwarder.
func (f *podForward) PortForward(ctx context.Context, _, _ string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	conn, err := dialInNetns(f.pod.NetNS, int(port))
	if err != nil {
		return fmt.Errorf("failed to connect to localhost:%d inside the network namespace of pod %s/%s: %w",
			port, f.pod.Namespace, f.pod.Name, err)
	}
	defer conn.Close()
	done := make(chan error, 2)
	go func() {
		_, err := io.Copy(conn, stream)
		_ = conn.(*net.TCPConn).CloseWrite()
		done <- err
	}()
	go func() {
		_, err := io.Copy(stream, conn)
		done <- err
	}()
	// Like containerd: once one direction ends, give the other a moment, then close both.
	select {
	case <-done:
		select {
		case <-done:
		case <-time.After(time.Second):
		}
	case <-ctx.Done():
	}
	return nil
}

// dialInNetns connects to 127.0.0.1:port (then [::1]:port) inside the
// network namespace at path; "" means the host's (hostNetwork Pods).
//
// The socket is created on an OS thread switched into the namespace; the
// thread is switched back before it is released, or, if that fails, left
// locked so that Go ends it together with the goroutine.
func dialInNetns(path string, port int) (net.Conn, error) {
	dial := func() (net.Conn, error) {
		dialer := net.Dialer{Timeout: 10 * time.Second}
		conn, err := dialer.Dial("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err == nil {
			return conn, nil
		}
		if conn6, err6 := dialer.Dial("tcp6", net.JoinHostPort("::1", strconv.Itoa(port))); err6 == nil {
			return conn6, nil
		}
		return nil, err
	}
	if path == "" {
		return dial()
	}
	type result struct {
		conn net.Conn
		err  error
	}
	results := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		home, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
		if err != nil {
			runtime.UnlockOSThread()
			results <- result{nil, err}
			return
		}
		defer home.Close()
		target, err := os.Open(path)
		if err != nil {
			runtime.UnlockOSThread()
			results <- result{nil, err}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			results <- result{nil, fmt.Errorf("entering %s: %w", path, err)}
			return
		}
		conn, err := dial()
		if unix.Setns(int(home.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		results <- result{conn, err}
	}()
	r := <-results
	return r.conn, r.err
}

// containerAttach follows a container's output from now on. Containers of
// the local node agent run without stdin or a terminal, so attach streams
// stdout and stderr (read back from the container's CRI log file) and drops
// anything sent to stdin, until the container's run ends.
type containerAttach struct {
	agent     *agentClient
	pod       *podInfo
	name      string
	container *containerInfo
}

// AttachContainer implements remotecommand.Attacher.
func (a *containerAttach) AttachContainer(ctx context.Context, _, _, _ string, in io.Reader,
	out, errOut io.WriteCloser, _ bool, _ <-chan remotecommand.TerminalSize) error {
	if in != nil {
		go func() { _, _ = io.Copy(io.Discard, in) }()
	}
	file, err := os.Open(a.container.LogPath)
	if err != nil {
		return fmt.Errorf("container %q has no output yet: %w", a.name, err)
	}
	defer file.Close()
	if _, err := file.Seek(0, io.SeekEnd); err != nil {
		return err
	}
	reader := bufio.NewReaderSize(file, 64*1024)
	var pending []byte
	for {
		chunk, err := reader.ReadBytes('\n')
		pending = append(pending, chunk...)
		if err == nil {
			if werr := writeLogLine(pending, out, errOut); werr != nil {
				return nil // the client went away
			}
			pending = pending[:0]
			continue
		}
		if !errors.Is(err, io.EOF) {
			return err
		}
		if !a.stillRunning(ctx) {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// stillRunning reports whether the attached run of the container is still the current, live one.
func (a *containerAttach) stillRunning(ctx context.Context) bool {
	pod, err := a.agent.pod(ctx, a.pod.Namespace, a.pod.Name)
	if err != nil || pod.UID != a.pod.UID {
		return false
	}
	now, ok := pod.Containers[a.name]
	return ok && now.PID == a.container.PID && now.LogPath == a.container.LogPath
}

// writeLogLine writes one CRI log line ("<time> <stream> <P|F> <text>\n") to its stream.
func writeLogLine(line []byte, out, errOut io.Writer) error {
	parts := bytes.SplitN(bytes.TrimSuffix(line, []byte{'\n'}), []byte{' '}, 4)
	if len(parts) < 3 {
		return nil
	}
	text := []byte{}
	if len(parts) == 4 {
		text = parts[3]
	}
	if string(parts[2]) == "F" {
		text = append(text, '\n')
	}
	target := out
	if string(parts[1]) == "stderr" {
		target = errOut
	}
	if target == nil {
		return nil
	}
	_, err := target.Write(text)
	return err
}
