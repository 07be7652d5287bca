// Tiny Catch2 v2 benchmarks for the harness's adapter tests (a few ms each).
#define CATCH_CONFIG_MAIN
#define CATCH_CONFIG_ENABLE_BENCHMARKING
#include <catch2/catch.hpp>

#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

TEST_CASE("vector sum", "[bench]") {
  std::vector<int> data(1024, 1);
  REQUIRE(std::accumulate(data.begin(), data.end(), 0) == 1024);
  BENCHMARK("accumulate 1024") {
    return std::accumulate(data.begin(), data.end(), 0);
  };
  BENCHMARK("accumulate 64") {
    return std::accumulate(data.begin(), data.begin() + 64, 0);
  };
}

TEST_CASE("string concat", "[bench]") {
  BENCHMARK("16 pieces") {
    std::string text;
    for (int i = 0; i < 16; ++i) text += "abc";
    return text;
  };
}

TEST_CASE("sections", "[bench]") {
  SECTION("small") {
    BENCHMARK("fill 256") { return std::vector<int>(256, 7); };
  }
}

// Stands for a benchmark that throws: the XML reporter writes <failed message=...>, no mean.
TEST_CASE("unavailable device", "[bench][!mayfail]") {
  BENCHMARK("open device") {
    throw std::runtime_error("no device");
    return 0;
  };
}
