package loadgen

import (
	"math/bits"
	"time"
)

// subBuckets per power of two: latencies are kept within 1/16 (6 %).
const (
	subBits    = 4
	subBuckets = 1 << subBits
	histSize   = 64 * subBuckets
)

// histogram counts latencies in microseconds on a log-linear scale, in
// fixed memory. It is not safe for concurrent use: each goroutine records
// into its own and they are merged at the end.
type histogram struct {
	counts [histSize]uint32
	total  uint64
}

func bucketOf(us uint64) int {
	if us < subBuckets {
		return int(us)
	}
	exp := bits.Len64(us) - subBits - 1
	return (exp+1)*subBuckets + int(us>>uint(exp)&(subBuckets-1))
}

// lowerBound is the smallest latency in microseconds that falls in bucket i.
func lowerBound(i int) uint64 {
	if i < subBuckets {
		return uint64(i)
	}
	exp := i/subBuckets - 1
	return (subBuckets + uint64(i%subBuckets)) << uint(exp)
}

func (h *histogram) record(d time.Duration) {
	us := uint64(max(d.Microseconds(), 0))
	h.counts[bucketOf(us)]++
	h.total++
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
}

// quantile returns the latency below which a fraction q of the samples fall
// (the lower bound of its bucket), or 0 without samples.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(q*float64(h.total-1)) + 1
	var seen uint64
	for i, c := range h.counts {
		seen += uint64(c)
		if seen >= rank {
			return time.Duration(lowerBound(i)) * time.Microsecond
		}
	}
	return 0
}
