package metrics

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// A family is one metric family as the text format writes it: its samples
// come from write, and a family with none is left out (as the client
// library leaves out a vector nothing has been counted in).
type family struct {
	name, help, typ string
	empty           bool
	write           func(w *textWriter)
}

// A collector gives its families at each scrape.
type collector interface {
	families() []family
}

// labelPair is one label of a series.
type labelPair struct{ name, value string }

// seriesKey identifies a series of a vector by its label values (no vector
// here has more than two labels).
type seriesKey [2]string

// vec is what counterVec and histogramVec share: the label names and the
// series by label values, created on first use.
type vec[S any] struct {
	name, help string
	labels     []string // as declared: the order of the values passed to with
	sorted     []int    // indexes of labels sorted by name: the order written
	mu         sync.RWMutex
	series     map[seriesKey]*S
	values     map[*S][]string
	make       func() *S
}

func newVec[S any](name, help string, labels []string, mk func() *S) vec[S] {
	if len(labels) > len(seriesKey{}) {
		panic("metrics: a vector has at most two labels")
	}
	sorted := make([]int, len(labels))
	for i := range sorted {
		sorted[i] = i
	}
	slices.SortFunc(sorted, func(a, b int) int { return cmp.Compare(labels[a], labels[b]) })
	return vec[S]{name: name, help: help, labels: labels, sorted: sorted, series: map[seriesKey]*S{}, values: map[*S][]string{}, make: mk}
}

// with returns the series of the label values (in declared order).
func (v *vec[S]) with(values ...string) *S {
	if len(values) != len(v.labels) {
		panic("metrics: " + v.name + ": " + strconv.Itoa(len(values)) + " label values for " + strconv.Itoa(len(v.labels)) + " labels")
	}
	var k seriesKey
	copy(k[:], values)
	v.mu.RLock()
	s := v.series[k]
	v.mu.RUnlock()
	if s != nil {
		return s
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if s = v.series[k]; s == nil {
		s = v.make()
		v.series[k] = s
		v.values[s] = slices.Clone(values)
	}
	return s
}

// snapshot returns every series with its labels in the written order,
// sorted by label values as the client library sorts them.
func (v *vec[S]) snapshot() ([]*S, [][]labelPair) {
	v.mu.RLock()
	all := make([]*S, 0, len(v.series))
	for _, s := range v.series {
		all = append(all, s)
	}
	labels := make(map[*S][]labelPair, len(all))
	for _, s := range all {
		vals := v.values[s]
		lp := make([]labelPair, len(v.sorted))
		for i, j := range v.sorted {
			lp[i] = labelPair{v.labels[j], vals[j]}
		}
		labels[s] = lp
	}
	v.mu.RUnlock()
	slices.SortFunc(all, func(a, b *S) int {
		la, lb := labels[a], labels[b]
		for i := range la {
			if c := strings.Compare(la[i].value, lb[i].value); c != 0 {
				return c
			}
		}
		return 0
	})
	out := make([][]labelPair, len(all))
	for i, s := range all {
		out[i] = labels[s]
	}
	return all, out
}

// counter is one counter series.
type counter struct{ n atomic.Uint64 }

func (c *counter) inc() { c.n.Add(1) }

// counterVec is a counter by label values (CounterVec; with no labels, a
// plain Counter).
type counterVec struct{ vec[counter] }

func newCounterVec(name, help string, labels ...string) *counterVec {
	return &counterVec{newVec(name, help, labels, func() *counter { return new(counter) })}
}

func (v *counterVec) families() []family {
	series, labels := v.snapshot()
	return []family{{name: v.name, help: v.help, typ: "counter", empty: len(series) == 0, write: func(w *textWriter) {
		for i, s := range series {
			w.sample(v.name, labels[i], "", 0, float64(s.n.Load()))
		}
	}}}
}

// histogram is one histogram series: counts per bucket (not cumulative),
// the count and the sum, changed together.
type histogram struct {
	bounds []float64
	mu     sync.Mutex
	counts []uint64
	count  uint64
	sum    float64
}

func (h *histogram) observe(v float64) {
	i := sort.SearchFloat64s(h.bounds, v) // the first bucket whose upper bound is >= v
	h.mu.Lock()
	if i < len(h.counts) {
		h.counts[i]++
	}
	h.count++
	h.sum += v
	h.mu.Unlock()
}

// histogramVec is a histogram by label values (HistogramVec).
type histogramVec struct {
	vec[histogram]
	bounds []float64
}

func newHistogramVec(name, help string, bounds []float64, labels ...string) *histogramVec {
	return &histogramVec{newVec(name, help, labels, func() *histogram {
		return &histogram{bounds: bounds, counts: make([]uint64, len(bounds))}
	}), bounds}
}

func (v *histogramVec) families() []family {
	series, labels := v.snapshot()
	type snap struct {
		cumulative []uint64
		count      uint64
		sum        float64
	}
	snaps := make([]snap, len(series))
	for i, h := range series {
		h.mu.Lock()
		c := make([]uint64, len(h.counts))
		var acc uint64
		for j, n := range h.counts {
			acc += n
			c[j] = acc
		}
		snaps[i] = snap{c, h.count, h.sum}
		h.mu.Unlock()
	}
	return []family{{name: v.name, help: v.help, typ: "histogram", empty: len(series) == 0, write: func(w *textWriter) {
		for i, s := range snaps {
			for j, ub := range v.bounds {
				w.sample(v.name+"_bucket", labels[i], "le", ub, float64(s.cumulative[j]))
			}
			w.sample(v.name+"_bucket", labels[i], "le", math.Inf(+1), float64(s.count))
			w.sample(v.name+"_sum", labels[i], "", 0, s.sum)
			w.sample(v.name+"_count", labels[i], "", 0, float64(s.count))
		}
	}}}
}

// exponentialBuckets is the client library's ExponentialBuckets: count
// upper bounds from start, each factor times the one before.
func exponentialBuckets(start, factor float64, count int) []float64 {
	b := make([]float64, count)
	for i := range b {
		b[i] = start
		start *= factor
	}
	return b
}

// gauge is a gauge without labels.
type gauge struct {
	name, help string
	bits       atomic.Uint64
}

func newGauge(name, help string) *gauge { return &gauge{name: name, help: help} }

func (g *gauge) set(v float64) { g.bits.Store(math.Float64bits(v)) }

func (g *gauge) families() []family {
	v := math.Float64frombits(g.bits.Load())
	return []family{{name: g.name, help: g.help, typ: "gauge", write: func(w *textWriter) { w.sample(g.name, nil, "", 0, v) }}}
}

// constFamily is a family of one sample without labels.
func constFamily(name, help, typ string, v float64) family {
	return family{name: name, help: help, typ: typ, write: func(w *textWriter) { w.sample(name, nil, "", 0, v) }}
}
