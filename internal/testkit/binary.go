package testkit

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

var (
	buildOnce sync.Once
	buildDir  string
	builtBin  string
	buildErr  error
)

// Binary returns the bys-mcp binary for this test process: the path in the
// environment variable override when that is set (override "" = no such
// variable), else one built once per process with
// `go build -o <tmp>/bys-mcp <module root>`, env added to the build's
// environment. RemoveBinary deletes what was built.
func Binary(override string, env ...string) (string, error) {
	if override != "" {
		if p := os.Getenv(override); p != "" {
			return p, nil
		}
	}
	buildOnce.Do(func() {
		root, err := ModuleRoot()
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "bys-mcp-test-")
		if err != nil {
			buildErr = fmt.Errorf("temp dir: %w", err)
			return
		}
		buildDir = dir
		bin := filepath.Join(dir, "bys-mcp")
		cmd := exec.Command("go", "build", "-o", bin, root)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build failed: %v\n%s", err, out)
			return
		}
		builtBin = bin
	})
	return builtBin, buildErr
}

// RemoveBinary deletes the binary Binary built, if any.
func RemoveBinary() {
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
}

// ModuleRoot is the directory of the go.mod above the working directory
// (a test runs in its package's directory).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// CleanEnv is the test process's environment without any BYS_ variable (so
// that the developer's own settings cannot change what a test sees), with
// BYS_STATE_DIR=memory (so that no test writes to the user's state
// directory), then extra; a later entry wins, so extra may set its own
// BYS_STATE_DIR (a t.TempDir()).
func CleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BYS_") {
			env = append(env, kv)
		}
	}
	// Calling hours are on by default; tests must not depend on the hour
	// they run at (tests of hours set their own window).
	env = append(env, "BYS_STATE_DIR=memory", "BYS_CALLING_HOURS=off", "BYS_MAX_CALLS_PER_NUMBER=off")
	return append(env, extra...)
}
