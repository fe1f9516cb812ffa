package reliability_test

import (
	"flag"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	flag.Parse()
	// The fault matrix and the HTTP tests mostly wait (on time-outs, on
	// retries, on the server's read-header time-out), not on the CPU: unless
	// -parallel was given, run their sub-tests all at once so that the
	// package stays well under a minute on small machines.
	// Not when fuzzing: -parallel is also the number of fuzz workers.
	explicit := false
	flag.Visit(func(f *flag.Flag) {
		explicit = explicit || f.Name == "test.parallel" || (f.Name == "test.fuzz" && f.Value.String() != "")
	})
	if !explicit {
		_ = flag.Set("test.parallel", "64")
	}
	os.Exit(m.Run())
}
