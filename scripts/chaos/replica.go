package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// replica is one bcdr serve process on a fixed address.
type replica struct {
	h          *harness
	name, addr string
	mu         sync.Mutex
	cmd        *exec.Cmd
	done       chan struct{}
}

func newReplica(h *harness, i int) (*replica, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	return &replica{h: h, name: fmt.Sprintf("replica-%d", i), addr: addr}, nil
}

func (r *replica) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	logf, err := os.OpenFile(filepath.Join(r.h.work, r.name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(r.h.bin, "serve", "--listen", r.addr)
	cmd.Env = append(r.h.env, "BCDR_REPLICA="+r.name)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	r.cmd, r.done = cmd, done
	return nil
}

func (r *replica) alive() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done == nil {
		return false
	}
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

func (r *replica) kill() {
	r.signal(syscall.SIGKILL, 0)
}

func (r *replica) stop() {
	r.signal(syscall.SIGTERM, 20*time.Second)
}

// signal sends sig and waits for the process to end, killing it after
// grace (0: wait as long as it takes).
func (r *replica) signal(sig syscall.Signal, grace time.Duration) {
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	if grace == 0 {
		<-done
		return
	}
	select {
	case <-done:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-done
	}
}

func (r *replica) waitReady(limit time.Duration) error {
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		resp, err := http.Get("http://" + r.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready within %s (see %s.log)", r.name, limit, r.name)
}
