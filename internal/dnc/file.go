package dnc

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// File is the operator's do-not-call file: one E.164 number per line, `#`
// starts a comment. It is read again whenever its size or modification
// time changes; when it cannot be read, the numbers last read still hold
// (fail closed). Its numbers hold for every key.
type File struct {
	path string
	// Warn, when set, is told of lines that are not E.164 numbers and of a
	// file that cannot be read any more.
	Warn func(msg string)

	mu      sync.Mutex
	mod     time.Time
	size    int64
	numbers map[string]bool
	broken  bool // the last read failed (warned once)
}

// OpenFile reads the file at path; an error when it cannot be read or has
// a line that is not an E.164 number.
func OpenFile(path string) (*File, error) {
	f := &File{path: path}
	data, st, err := f.read()
	if err != nil {
		return nil, err
	}
	nums, bad := parse(data)
	if len(bad) > 0 {
		return nil, fmt.Errorf("%s: %s", path, bad[0])
	}
	f.numbers, f.mod, f.size = nums, st.ModTime(), st.Size()
	return f, nil
}

func (f *File) read() ([]byte, os.FileInfo, error) {
	st, err := os.Stat(f.path)
	if err != nil {
		return nil, nil, err
	}
	data, err := os.ReadFile(f.path)
	return data, st, err
}

// Len is how many numbers the file lists now.
func (f *File) Len() int {
	f.refresh()
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.numbers)
}

// Lookup returns the file's entry for number, or nil.
func (f *File) Lookup(number string) *Entry {
	f.refresh()
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.numbers[number] {
		return nil
	}
	return &Entry{Number: number, KeyFP: EveryKey, Source: SourceFile, At: f.mod}
}

// refresh reads the file again when it changed. A file that changes while
// it is read (rewritten in place) keeps the numbers last read until it
// reads the same before and after.
func (f *File) refresh() {
	f.mu.Lock()
	defer f.mu.Unlock()
	st, err := os.Stat(f.path)
	if err != nil {
		f.fail(err)
		return
	}
	if st.ModTime().Equal(f.mod) && st.Size() == f.size {
		return
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		f.fail(err)
		return
	}
	after, err := os.Stat(f.path)
	if err != nil || !after.ModTime().Equal(st.ModTime()) || after.Size() != st.Size() || int64(len(data)) != st.Size() {
		return // changing under us: read it next time
	}
	f.broken = false
	nums, bad := parse(data)
	for _, b := range bad {
		f.warn(fmt.Sprintf("the do-not-call file %s: %s (line skipped)", f.path, b))
	}
	f.numbers, f.mod, f.size = nums, st.ModTime(), st.Size()
}

// fail notes a file that cannot be read, once until it can again.
func (f *File) fail(err error) {
	if !f.broken {
		f.broken = true
		f.warn(fmt.Sprintf("the do-not-call file %s cannot be read (%v); its numbers as last read still hold", f.path, err))
	}
}

func (f *File) warn(msg string) {
	if f.Warn != nil {
		f.Warn(msg)
	}
}

// parse reads the numbers of a file, and describes its bad lines.
func parse(data []byte) (map[string]bool, []string) {
	nums := map[string]bool{}
	var bad []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !IsE164(line) {
			bad = append(bad, fmt.Sprintf("line %d (%q) is not an E.164 number such as +14155550123", n, line))
			continue
		}
		nums[line] = true
	}
	return nums, bad
}

// IsE164 reports whether s has the E.164 form: + then 8 to 15 digits, the
// first not 0.
func IsE164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
