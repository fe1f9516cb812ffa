package testkit

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// Metrics is the text of the /metrics page of the server at base (such as
// http://127.0.0.1:PORT); the test fails when it cannot be fetched.
func Metrics(tb testing.TB, base string) string {
	tb.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("reading %s/metrics: %v", base, err)
	}
	return string(b)
}

// MetricLines are the lines of a /metrics text that start with prefix,
// joined by newlines.
func MetricLines(text, prefix string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// MetricSum is the sum of the values of the samples of a /metrics text
// whose lines start with prefix (0 when there is none); the test fails on
// a value that is not a number.
func MetricSum(tb testing.TB, text, prefix string) float64 {
	tb.Helper()
	var sum float64
	for _, line := range strings.Split(MetricLines(text, prefix), "\n") {
		if line == "" {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			tb.Fatalf("metrics line %q: %v", line, err)
		}
		sum += v
	}
	return sum
}
