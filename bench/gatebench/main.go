// Command gatebench is the benchmark's one load tool and its mock upstream.
//
//	gatebench mock [flags]   a fast OpenAI-shaped upstream (pre-serialized answers, latency, SSE)
//	gatebench load [flags]   closed-loop (N connections) or open-loop (constant arrival) HTTP load
//
// Both are pure Go standard library, so `go build` needs no module download.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: gatebench mock|load [flags]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "mock":
		runMock(os.Args[2:])
	case "load":
		runLoad(os.Args[2:])
	default:
		fmt.Fprintf(os.Stderr, "unknown command %q; known: mock, load\n", os.Args[1])
		os.Exit(2)
	}
}
