//go:build wasip1 || js || ios

package metrics

// No process metrics on these platforms (the collector has none either).
func (processCollector) families() []family { return nil }
