package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

type loadConfig struct {
	addr         string
	request      []byte
	timeout      time.Duration
	stream       bool
	expectChunks int
	expectText   string
}

// runLoad drives one target and prints one JSON summary on stdout.
//
// Closed loop (-rate 0): -conns workers, each with its own keep-alive connection,
// send back to back for -warmup then -duration; latency is send → last byte.
// Open loop (-rate R): requests are due at start + i/R whether or not earlier ones
// finished (constant arrival). Latency is measured from the DUE time, so a stall
// in the target shows up in every request that waited behind it (no coordinated
// omission). Idle connections are reused last-in-first-out, so the target sees as
// few connections as the load needs, up to -max-conns; beyond that requests wait
// in a backlog (their wait counted), and past -backlog they are dropped (errors).
func runLoad(args []string) {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	target := fs.String("url", "", "target URL")
	var headers headerFlags
	fs.Var(&headers, "H", "extra request header 'name: value' (repeatable)")
	bodyFile := fs.String("body-file", "", "request body file (JSON)")
	conns := fs.Int("conns", 1, "closed loop: connections")
	rate := fs.Float64("rate", 0, "open loop: requests per second (0 = closed loop)")
	maxConns := fs.Int("max-conns", 512, "open loop: most connections")
	backlogCap := fs.Int("backlog", 100000, "open loop: most requests waiting for a connection")
	duration := fs.Duration("duration", 10*time.Second, "measured time")
	warmup := fs.Duration("warmup", 2*time.Second, "unmeasured time before it")
	timeout := fs.Duration("timeout", 10*time.Second, "per-request limit")
	stream := fs.Bool("stream", false, "the answer is SSE: measure time to first content chunk, gaps, fidelity")
	expectChunks := fs.Int("expect-chunks", 20, "stream: content chunks the upstream sends (tok0 .. tokN-1)")
	samplesFile := fs.String("samples", "", "write each measured latency (µs) to this file, one per line")
	_ = fs.Parse(args)

	parsed, err := url.Parse(*target)
	if err != nil || parsed.Host == "" {
		fail("bad -url %q", *target)
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		fail("read -body-file: %v", err)
	}
	var req strings.Builder
	fmt.Fprintf(&req, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nUser-Agent: gatebench\r\n", parsed.RequestURI(), parsed.Host, len(body))
	for _, h := range headers {
		req.WriteString(h)
		req.WriteString("\r\n")
	}
	req.WriteString("\r\n")
	req.Write(body)
	var text strings.Builder
	for i := 0; i < *expectChunks; i++ {
		fmt.Fprintf(&text, "tok%d ", i)
	}
	cfg := &loadConfig{addr: parsed.Host, request: []byte(req.String()), timeout: *timeout, stream: *stream, expectChunks: *expectChunks, expectText: text.String()}

	var workers []*worker
	var dropped int
	var maxLagUs int64
	begin := time.Now()
	measureFrom := begin.Add(*warmup)
	end := measureFrom.Add(*duration)
	if *rate <= 0 {
		workers = closedLoop(cfg, *conns, measureFrom, end)
	} else {
		workers, dropped, maxLagUs = openLoop(cfg, *rate, *maxConns, *backlogCap, begin, measureFrom, end)
	}
	writeSummary(workers, dropped, maxLagUs, *duration, *samplesFile, *stream)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(2)
}

func closedLoop(cfg *loadConfig, conns int, measureFrom, end time.Time) []*worker {
	workers := make([]*worker, conns)
	var wg sync.WaitGroup
	for i := range workers {
		w := newWorker(cfg)
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				now := time.Now()
				if !now.Before(end) {
					break
				}
				w.do(now, !now.Before(measureFrom))
			}
			w.close()
		}()
	}
	wg.Wait()
	return workers
}

type pool struct {
	mu      sync.Mutex
	idle    []*worker
	all     []*worker
	backlog []backlogItem
	done    sync.WaitGroup
}

type backlogItem struct {
	due    time.Time
	record bool
}

func openLoop(cfg *loadConfig, rate float64, maxConns, backlogCap int, begin, measureFrom, end time.Time) ([]*worker, int, int64) {
	p := &pool{}
	dropped := 0
	var maxLag time.Duration
	start := begin.Add(5 * time.Millisecond)
	total := int(end.Sub(start).Seconds() * rate)
	for i := 0; i < total; i++ {
		due := start.Add(time.Duration(float64(i) * float64(time.Second) / rate))
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		} else if lag := -wait; lag > maxLag && !due.Before(measureFrom) {
			maxLag = lag
		}
		record := !due.Before(measureFrom)
		p.mu.Lock()
		if n := len(p.idle); n > 0 {
			w := p.idle[n-1]
			p.idle = p.idle[:n-1]
			p.done.Add(1)
			p.mu.Unlock()
			w.jobs <- backlogItem{due, record}
			continue
		}
		if len(p.all) < maxConns {
			w := newWorker(cfg)
			w.jobs = make(chan backlogItem, 1)
			p.all = append(p.all, w)
			p.done.Add(1)
			p.mu.Unlock()
			go p.serve(w)
			w.jobs <- backlogItem{due, record}
			continue
		}
		if len(p.backlog) >= backlogCap {
			p.mu.Unlock()
			if record {
				dropped++
			}
			continue
		}
		p.done.Add(1)
		p.backlog = append(p.backlog, backlogItem{due, record})
		p.mu.Unlock()
	}
	p.done.Wait()
	for _, w := range p.all {
		close(w.jobs)
	}
	return p.all, dropped, maxLag.Microseconds()
}

func (p *pool) serve(w *worker) {
	for job := range w.jobs {
		for {
			// A request that already waited past the timeout for a free connection is
			// not sent: it failed (a client would have given up), and sending it would
			// only keep an overloaded target busy long after the run.
			if time.Since(job.due) > w.cfg.timeout {
				if job.record {
					w.errors["timeout"]++
				}
			} else {
				w.do(job.due, job.record)
			}
			p.mu.Lock()
			if len(p.backlog) > 0 {
				job = p.backlog[0]
				p.backlog = p.backlog[1:]
				p.mu.Unlock()
				p.done.Done()
				continue
			}
			p.idle = append(p.idle, w)
			p.mu.Unlock()
			p.done.Done()
			break
		}
	}
	w.close()
}
