// MemoryProfiler over the tracking allocator: known allocations are counted
// exactly, a planted leak is found with its size, nested scopes each see
// their own peak, and the process peak RSS is read.
#include <gtest/gtest.h>

#include "core/tensor.h"
#include "profiler/memory_profiler.h"

using namespace tinyopt;

TEST(ProfilerMemory, CountsKnownAllocationsBytesAndPeak) {
  MemoryProfiler mem({Device::cpu()});
  {
    Tensor a = Tensor::empty({1000}, DType::f32);  // 4000 B
    Tensor b = Tensor::empty({500}, DType::f32);   // 2000 B, both alive: peak +6000
  }
  Tensor c = Tensor::empty({250}, DType::f32);  // 1000 B
  c = Tensor();
  const std::vector<MemoryReport>& reports = mem.stop();
  ASSERT_EQ(reports.size(), 1u);
  const MemoryReport& r = reports[0];
  EXPECT_EQ(r.device, Device::cpu());
  EXPECT_EQ(r.allocation_count, 3);
  EXPECT_EQ(r.allocated_bytes, 7000);
  EXPECT_EQ(r.peak_increase(), 6000);
  EXPECT_EQ(r.end_bytes, r.start_bytes);
  EXPECT_TRUE(r.leaks.empty());
  EXPECT_EQ(&mem.stop(), &reports);  // stop() is idempotent
}

TEST(ProfilerMemory, FindsAPlantedLeakWithItsSize) {
  Tensor planted;
  MemoryProfiler mem({Device::cpu()});
  Tensor temporary = Tensor::empty({10}, DType::f32);
  planted = Tensor::empty({256}, DType::f32);  // outlives the scope: 1024 B
  temporary = Tensor();
  const MemoryReport& r = mem.stop()[0];
  ASSERT_EQ(r.leaks.size(), 1u);
  EXPECT_EQ(r.leaks[0].bytes, 1024u);
  EXPECT_EQ(r.leaks[0].ptr, planted.storage()->data());
  EXPECT_EQ(r.leaked_bytes(), 1024);
  EXPECT_EQ(r.end_bytes - r.start_bytes, 1024);
  EXPECT_NE(format_memory_report(r).find("1 left alive (1.0 KiB)"), std::string::npos) << format_memory_report(r);
}

TEST(ProfilerMemory, NestedScopesEachSeeTheirOwnPeakAndTheOuterKeepsItsHigherOne) {
  MemoryProfiler outer({Device::cpu()});
  { Tensor big = Tensor::empty({2000}, DType::f32); }  // 8000 B, freed
  {
    MemoryProfiler inner({Device::cpu()});
    { Tensor small = Tensor::empty({250}, DType::f32); }  // 1000 B
    EXPECT_EQ(inner.stop()[0].peak_increase(), 1000);   // the inner scope started a fresh mark
  }
  EXPECT_EQ(outer.stop()[0].peak_increase(), 8000);      // and gave the outer one back its higher mark
  const AllocatorStats s = TrackingAllocator::of(Device::cpu()).stats();
  EXPECT_GE(s.peak_bytes, s.current_bytes + 8000);
}

TEST(ProfilerMemory, DefaultDevicesIncludeTheCpuAndProcessPeakRssIsRead) {
  MemoryProfiler mem;
  ASSERT_FALSE(mem.stop().empty());
  EXPECT_EQ(mem.stop()[0].device, Device::cpu());
  EXPECT_GT(process_peak_rss_bytes(), 1 << 20);  // a test binary is more than 1 MiB resident
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(12), "12 B");
}
