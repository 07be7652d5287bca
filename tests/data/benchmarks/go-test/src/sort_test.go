package sortbench

import (
	"sort"
	"testing"
)

// ints returns n integers in descending order: the worst start for a naive sort.
func ints(n int) []int {
	data := make([]int, n)
	for i := range data {
		data[i] = n - i
	}
	return data
}

// BenchmarkSort sorts 1000 integers: ns/op, B/op, allocs/op and MB/s (b.SetBytes).
func BenchmarkSort(b *testing.B) {
	b.SetBytes(8 * 1000)
	for i := 0; i < b.N; i++ {
		sort.Ints(ints(1000))
	}
}

// BenchmarkSearch has sub-benchmarks and a custom metric (probes/op).
func BenchmarkSearch(b *testing.B) {
	for _, n := range []int{10, 1000} {
		data := ints(n)
		sort.Ints(data)
		b.Run("size="+itoa(n), func(b *testing.B) {
			probes := 0
			for i := 0; i < b.N; i++ {
				sort.Search(len(data), func(j int) bool { probes++; return data[j] >= n/2 })
			}
			b.ReportMetric(float64(probes)/float64(b.N), "probes/op")
		})
	}
}

// itoa formats a small non-negative integer without strconv's allocation profile mattering.
func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
