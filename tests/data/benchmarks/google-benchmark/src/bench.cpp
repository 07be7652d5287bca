// Tiny google-benchmark benchmarks for the harness's adapter tests (a few ms each).
#include <benchmark/benchmark.h>

#include <numeric>
#include <string>
#include <vector>

// Sums a vector; reports items and bytes processed per second.
static void BM_VectorSum(benchmark::State& state) {
  std::vector<int> data(static_cast<size_t>(state.range(0)), 1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(std::accumulate(data.begin(), data.end(), 0));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * state.range(0) * int64_t(sizeof(int)));
}
BENCHMARK(BM_VectorSum)->Arg(64)->Arg(1024);

// Builds a short string; reported in microseconds, with a user counter.
static void BM_StringConcat(benchmark::State& state) {
  for (auto _ : state) {
    std::string text;
    for (int i = 0; i < 16; ++i) text += "abc";
    benchmark::DoNotOptimize(text);
  }
  state.counters["pieces"] = 16;
}
BENCHMARK(BM_StringConcat)->Unit(benchmark::kMicrosecond);

// Stands for a benchmark that cannot run here: reported with error_occurred, no figures.
static void BM_Unavailable(benchmark::State& state) {
  state.SkipWithError("no device");
  for (auto _ : state) {
  }
}
BENCHMARK(BM_Unavailable);

BENCHMARK_MAIN();
