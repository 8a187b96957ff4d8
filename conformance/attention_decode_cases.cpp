// Conformance cases of attention_decode (one query per head against a KV
// cache): cache lengths 1, 7, 13, 127, 129 (around the blocked kernel's
// 64-key chunk), head_dim 1, 13, 32, batch 1 and 2, with a cache whose
// max_seq is larger than the attended length (the kernels must use the
// max_seq stride and ignore the unused tail), plus calls large enough for
// the OpenMP path and the reference GPT's shape.
#include "conformance/cases.h"
#include "core/ops_nn.h"
#include "kernels/attention_decode.h"

namespace tinyopt::conformance {

namespace {

struct DecodeShape {
  int64_t b, h, hd, length, max_seq;
};

OpCase attention_decode_case(DecodeShape s) {
  OpCase c;
  c.op = "attention_decode";
  c.label = fmt::format("B={} H={} hd={} L={} S={}", s.b, s.h, s.hd, s.length, s.max_seq);
  c.op_object = &ops::attention_decode;
  c.inputs = {{{s.b, s.h, s.hd}, DType::f32},
              {{s.b, s.h, s.max_seq, s.hd}, DType::f32},
              {{s.b, s.h, s.max_seq, s.hd}, DType::f32}};
  c.outputs = {{{s.b, s.h, s.hd}, DType::f32}};
  // Scores of a few units: softmaxes neither flat nor one-hot.
  c.generators = {uniform(-2, 2), uniform(-2, 2), uniform(-1, 1)};
  c.invoke = make_invoke(ops::attention_decode, [s](std::vector<Tensor>& t) {
    return AttentionDecodeArgs{t[0], t[1], t[2], t[3], s.length};
  });
  c.reference = [s](const std::vector<std::vector<double>>& in, std::vector<std::vector<double>>& out) {
    kernels::attention_decode_ref(in[0].data(), in[1].data(), in[2].data(), out[0].data(), s.b, s.h, s.max_seq, s.hd,
                                  s.length);
  };
  c.max_nmse = 1e-10;
  c.cost = kernels::attention_decode_cost(s.b, s.h, s.hd, s.length);
  return c;
}

}  // namespace

void add_attention_decode_cases(std::vector<OpCase>& cases) {
  for (int64_t b : {1, 2})
    for (int64_t hd : {1, 13, 32})
      for (int64_t length : {1, 7, 13, 127, 129})
        cases.push_back(attention_decode_case({b, b == 1 ? 3 : 2, hd, length, length + (length % 3)}));
  cases.push_back(attention_decode_case({1, 4, 32, 255, 256}));   // the reference GPT near its full context
  cases.push_back(attention_decode_case({2, 4, 64, 512, 512}));   // OpenMP path, full cache
  cases.push_back(attention_decode_case({1, 1, 7, 200, 300}));    // chunk tail of 8 keys, unused tail of 100
}

}  // namespace tinyopt::conformance
