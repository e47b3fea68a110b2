package main

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// worker owns one connection and its measurements (no locks on the hot path).
type worker struct {
	cfg      *loadConfig
	conn     net.Conn
	reader   *bufio.Reader
	jobs     chan backlogItem
	latency  []int64
	ttft     []int64
	gaps     []int64
	ok       int
	errors   map[string]int
	streams  int
	faithful int
	connects int
	lastUsed time.Time
}

// idleLimit: a connection idle this long is replaced before use. Servers close
// idle keep-alive connections (Node's default after 5 s); reusing one in that race
// would count a client-side artifact as the target's error.
const idleLimit = time.Second

func newWorker(cfg *loadConfig) *worker {
	return &worker{cfg: cfg, errors: map[string]int{}, latency: make([]int64, 0, 4096)}
}

func (w *worker) close() {
	if w.conn != nil {
		_ = w.conn.Close()
		w.conn = nil
	}
}

func (w *worker) failed(kind string, record bool) {
	w.close()
	if record {
		w.errors[kind]++
	}
}

// do sends one request and reads the whole answer; due is when it should have been sent.
func (w *worker) do(due time.Time, record bool) {
	cfg := w.cfg
	if w.conn != nil && time.Since(w.lastUsed) > idleLimit {
		w.close()
	}
	if w.conn == nil {
		conn, err := net.DialTimeout("tcp", cfg.addr, cfg.timeout)
		if err != nil {
			w.failed("connect", record)
			return
		}
		w.conn = conn
		w.connects++
		if w.reader == nil {
			w.reader = bufio.NewReaderSize(conn, 32*1024)
		} else {
			w.reader.Reset(conn)
		}
	}
	_ = w.conn.SetDeadline(time.Now().Add(cfg.timeout))
	if _, err := w.conn.Write(cfg.request); err != nil {
		w.failed("write", record)
		return
	}
	resp, err := http.ReadResponse(w.reader, nil)
	if err != nil {
		w.failed(errorKind(err, "read"), record)
		return
	}
	var firstAt time.Time
	var gaps []int64
	faithful := true
	if cfg.stream && resp.StatusCode == 200 {
		firstAt, gaps, faithful, err = readStream(resp, cfg)
	} else {
		_, err = discard(resp)
	}
	_ = resp.Body.Close()
	done := time.Now()
	w.lastUsed = done
	if err != nil {
		w.failed(errorKind(err, "body"), record)
		return
	}
	if resp.Close {
		w.close()
	}
	if !record {
		return
	}
	if resp.StatusCode != 200 {
		w.errors["status_"+strconv.Itoa(resp.StatusCode)]++
		return
	}
	w.ok++
	w.latency = append(w.latency, done.Sub(due).Microseconds())
	if cfg.stream {
		w.streams++
		if faithful {
			w.faithful++
		}
		if !firstAt.IsZero() {
			w.ttft = append(w.ttft, firstAt.Sub(due).Microseconds())
		}
		w.gaps = append(w.gaps, gaps...)
	}
}

func errorKind(err error, fallback string) string {
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return "timeout"
	}
	return fallback
}

var discardBuffer = make([]byte, 64*1024)

func discard(resp *http.Response) (int, error) {
	total := 0
	for {
		n, err := resp.Body.Read(discardBuffer)
		total += n
		if err != nil {
			if err.Error() == "EOF" {
				return total, nil
			}
			return total, err
		}
	}
}

// readStream reads SSE lines; every `data:` line with a non-empty delta content is
// one content chunk. Faithful means: exactly the expected chunks, in order, and [DONE].
func readStream(resp *http.Response, cfg *loadConfig) (time.Time, []int64, bool, error) {
	reader := bufio.NewReaderSize(resp.Body, 16*1024)
	var first, last time.Time
	var gaps []int64
	var text strings.Builder
	chunks := 0
	sawDone := false
	for {
		line, err := reader.ReadSlice('\n')
		if len(line) > 6 && string(line[:5]) == "data:" {
			payload := strings.TrimSpace(string(line[5:]))
			if payload == "[DONE]" {
				sawDone = true
			} else if content, ok := deltaContent(payload); ok && content != "" {
				now := time.Now()
				if first.IsZero() {
					first = now
				} else {
					gaps = append(gaps, now.Sub(last).Microseconds())
				}
				last = now
				chunks++
				text.WriteString(content)
			}
		}
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			return first, gaps, false, err
		}
	}
	faithful := sawDone && chunks == cfg.expectChunks && text.String() == cfg.expectText
	return first, gaps, faithful, nil
}

// deltaContent finds `"content":"..."` in a chunk (the mock's tokens hold no escapes).
func deltaContent(payload string) (string, bool) {
	i := strings.Index(payload, `"content":`)
	if i < 0 {
		return "", false
	}
	rest := strings.TrimLeft(payload[i+len(`"content":`):], " ")
	if len(rest) == 0 || rest[0] != '"' {
		return "", false
	}
	j := strings.IndexByte(rest[1:], '"')
	if j < 0 {
		return "", false
	}
	return rest[1 : 1+j], true
}
