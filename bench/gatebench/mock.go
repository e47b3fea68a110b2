package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// runMock serves POST .../chat/completions with a pre-serialized OpenAI answer,
// after -latency-ms. A request whose body asks for "stream":true gets -chunks
// content chunks ("tok0 ", "tok1 ", ...) -chunk-interval-ms apart, a finish chunk,
// a usage chunk and [DONE]. Nothing is parsed or serialized per request.
func runMock(args []string) {
	fs := flag.NewFlagSet("mock", flag.ExitOnError)
	host := fs.String("host", "127.0.0.1", "listen host")
	port := fs.Int("port", 0, "listen port (0 picks a free one, printed on stdout)")
	latency := fs.Duration("latency", 0, "delay before the answer (or the first chunk)")
	chunks := fs.Int("chunks", 20, "content chunks per streamed answer")
	interval := fs.Duration("chunk-interval", 5*time.Millisecond, "gap between streamed chunks")
	sentences := fs.Bool("sentences", false, "stream prose in one-word chunks, a sentence every 8 words, instead of tok0 tok1 ...")
	_ = fs.Parse(args)
	words := strings.Fields("Markets moved on the rate news today. Bond yields rose across the curve again. Diversification spreads the risk across many holdings.")

	whole := []byte(`{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini-2024-07-18",` +
		`"choices":[{"index":0,"message":{"role":"assistant","content":"Benchmarks measure what they measure; this answer is the same every time.","refusal":null},"logprobs":null,"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":24,"completion_tokens":14,"total_tokens":38,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},` +
		`"system_fingerprint":"fp_bench"}`)
	wholeLength := strconv.Itoa(len(whole))
	prefix := `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_bench","choices":[`
	frames := make([][]byte, 0, *chunks+2)
	frames = append(frames, []byte(prefix+`{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`+"\n\n"))
	for i := 0; i < *chunks; i++ {
		content := fmt.Sprintf("tok%d ", i)
		if *sentences {
			content = words[i%len(words)] + " "
		}
		frames = append(frames, []byte(fmt.Sprintf(`%s{"index":0,"delta":{"content":%q},"logprobs":null,"finish_reason":null}]}`+"\n\n", prefix, content)))
	}
	tail := []byte(prefix + `{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}` + "\n\n" +
		prefix + `],"usage":{"prompt_tokens":24,"completion_tokens":` + strconv.Itoa(2*(*chunks)) + `,"total_tokens":` + strconv.Itoa(24+2*(*chunks)) + `}}` + "\n\n" +
		"data: [DONE]\n\n")
	streamMarker := []byte(`"stream":true`)
	streamMarkerSpaced := []byte(`"stream": true`)

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			if r.URL.Path == "/healthz" {
				w.WriteHeader(200)
				return
			}
			http.Error(w, `{"error":{"message":"POST only"}}`, 405)
			return
		}
		body, _ := io.ReadAll(r.Body)
		stream := bytes.Contains(body, streamMarker) || bytes.Contains(body, streamMarkerSpaced)
		if *latency > 0 {
			time.Sleep(*latency)
		}
		h := w.Header()
		if !stream {
			h["Content-Type"] = []string{"application/json"}
			h["Content-Length"] = []string{wholeLength}
			w.WriteHeader(200)
			_, _ = w.Write(whole)
			return
		}
		h["Content-Type"] = []string{"text/event-stream"}
		h["Cache-Control"] = []string{"no-cache"}
		w.WriteHeader(200)
		flusher := w.(http.Flusher)
		for i, frame := range frames {
			if i > 1 && *interval > 0 {
				time.Sleep(*interval)
			}
			if _, err := w.Write(frame); err != nil {
				return
			}
			flusher.Flush()
		}
		_, _ = w.Write(tail)
		flusher.Flush()
	})

	listener, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening %d\n", listener.Addr().(*net.TCPAddr).Port)
	server := &http.Server{Handler: handler, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second}
	if err := server.Serve(listener); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
