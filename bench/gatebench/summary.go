package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

type percentiles struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
	N    int     `json:"n"`
}

func percentilesMs(samples []int64) percentiles {
	if len(samples) == 0 {
		return percentiles{}
	}
	sort.Slice(samples, func(a, b int) bool { return samples[a] < samples[b] })
	at := func(q float64) float64 {
		rank := int(q*float64(len(samples))+0.999999) - 1
		if rank < 0 {
			rank = 0
		}
		if rank >= len(samples) {
			rank = len(samples) - 1
		}
		return float64(samples[rank]) / 1000
	}
	var sum int64
	for _, s := range samples {
		sum += s
	}
	return percentiles{P50: at(0.5), P90: at(0.9), P99: at(0.99), P999: at(0.999), Max: float64(samples[len(samples)-1]) / 1000, Mean: float64(sum) / float64(len(samples)) / 1000, N: len(samples)}
}

type summary struct {
	Requests    int            `json:"requests"`
	OK          int            `json:"ok"`
	Errors      int            `json:"errors"`
	ErrorKinds  map[string]int `json:"errorKinds"`
	Dropped     int            `json:"dropped"`
	RPS         float64        `json:"rps"`
	Latency     percentiles    `json:"latencyMs"`
	Connections int            `json:"connections"`
	MaxLagUs    int64          `json:"dispatchLagMaxUs"`
	Stream      *streamSummary `json:"stream,omitempty"`
}

type streamSummary struct {
	TTFT     percentiles `json:"ttftMs"`
	Gap      percentiles `json:"gapMs"`
	Streams  int         `json:"streams"`
	Faithful int         `json:"faithful"`
}

func writeSummary(workers []*worker, dropped int, maxLagUs int64, duration time.Duration, samplesFile string, stream bool) {
	s := summary{ErrorKinds: map[string]int{}, Dropped: dropped, MaxLagUs: maxLagUs}
	var latency, ttft, gaps []int64
	var streams, faithful int
	for _, w := range workers {
		s.OK += w.ok
		s.Connections += w.connects
		for kind, n := range w.errors {
			s.ErrorKinds[kind] += n
			s.Errors += n
		}
		latency = append(latency, w.latency...)
		ttft = append(ttft, w.ttft...)
		gaps = append(gaps, w.gaps...)
		streams += w.streams
		faithful += w.faithful
	}
	if dropped > 0 {
		s.ErrorKinds["dropped"] = dropped
		s.Errors += dropped
	}
	s.Requests = s.OK + s.Errors
	s.RPS = float64(s.OK) / duration.Seconds()
	if samplesFile != "" {
		var b strings.Builder
		for _, v := range latency {
			b.WriteString(strconv.FormatInt(v, 10))
			b.WriteByte('\n')
		}
		if err := os.WriteFile(samplesFile, []byte(b.String()), 0o644); err != nil {
			fail("write -samples: %v", err)
		}
	}
	s.Latency = percentilesMs(latency)
	if stream {
		s.Stream = &streamSummary{TTFT: percentilesMs(ttft), Gap: percentilesMs(gaps), Streams: streams, Faithful: faithful}
	}
	out, _ := json.Marshal(s)
	fmt.Println(string(out))
}
