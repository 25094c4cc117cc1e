package bench

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// MemOf reads a process's peak (VmHWM) and current (VmRSS) resident memory
// from /proc, as "123456 kB" strings ("?" when unreadable).
func MemOf(pid int) (hwm, rss string) {
	hwm, rss = "?", "?"
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return hwm, rss
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			hwm = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rss = strings.TrimSpace(v)
		}
	}
	return hwm, rss
}

// StartServer runs `bin serve` on a free loopback port with args (the data
// flags) and waits until /readyz answers. Its standard error goes to
// stderr (nil: discarded). The caller stops the process.
func StartServer(bin string, args []string, stderr io.Writer) (*exec.Cmd, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := exec.Command(bin, append([]string{"serve", "--addr", addr, "--log-level", "warn"}, args...)...)
	srv.Stderr = stderr
	if err := srv.Start(); err != nil {
		return nil, "", err
	}
	base := "http://" + addr
	for i := 0; ; i++ {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return srv, base, nil
			}
		}
		if i > 300 {
			_ = srv.Process.Kill()
			_ = srv.Wait()
			return nil, "", fmt.Errorf("server did not become ready")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
