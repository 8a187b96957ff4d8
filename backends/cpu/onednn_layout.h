// Moving tensors between our plain layouts (NCHW, OIHW) and the layout a
// oneDNN primitive chose for itself (format_tag::any), for the conv2d
// variants. A LayoutPort is one argument of a primitive: when the two layouts
// match it is a no-op and the primitive reads or writes the tensor in place;
// otherwise a cached reorder primitive converts through per-thread scratch.
#pragma once

#include <dnnl.hpp>

#include <cstdlib>
#include <cstring>

#include "backends/cpu/onednn_context.h"
#include "backends/cpu/scratch_buffer.h"

namespace tinyopt::cpu {

// Whether a conv primitive is created with format_tag::any (oneDNN picks,
// usually a channel-blocked layout, and we reorder around it) or with our
// plain layouts. Each variant passes its measured default (see the conv2d
// files); TINYOPT_CONV_LAYOUT=any|plain overrides it, for measuring.
inline bool conv_layout_any(bool default_any) {
  static const int forced = [] {
    const char* s = std::getenv("TINYOPT_CONV_LAYOUT");
    if (s && std::strcmp(s, "any") == 0) return 1;
    if (s && std::strcmp(s, "plain") == 0) return 0;
    return -1;
  }();
  return forced >= 0 ? forced == 1 : default_any;
}

struct LayoutPort {
  dnnl::memory::desc user;       // the caller's plain layout
  dnnl::memory::desc primitive;  // what the primitive wants
  bool reorder = false;
  dnnl::reorder convert;         // user -> primitive for inputs, primitive -> user for outputs

  static LayoutPort input(const dnnl::memory::desc& user, const dnnl::memory::desc& primitive) {
    LayoutPort p{user, primitive, primitive != user, {}};
    dnnl::engine& e = onednn_engine();
    if (p.reorder) p.convert = dnnl::reorder(dnnl::reorder::primitive_desc(e, user, e, primitive));
    return p;
  }
  static LayoutPort output(const dnnl::memory::desc& user, const dnnl::memory::desc& primitive) {
    LayoutPort p{user, primitive, primitive != user, {}};
    dnnl::engine& e = onednn_engine();
    if (p.reorder) p.convert = dnnl::reorder(dnnl::reorder::primitive_desc(e, primitive, e, user));
    return p;
  }

  // The memory the primitive should use for the tensor at `data`; for an
  // input in another layout, converts it first (on `stream`, in order).
  dnnl::memory bind_input(void* data, ScratchFloats& scratch, dnnl::stream& stream) const {
    dnnl::memory mine(user, onednn_engine(), data);
    if (!reorder) return mine;
    dnnl::memory theirs = scratch_memory(scratch);
    convert.execute(stream, mine, theirs);
    return theirs;
  }
  dnnl::memory bind_output(void* data, ScratchFloats& scratch) const {
    if (!reorder) return dnnl::memory(user, onednn_engine(), data);
    return scratch_memory(scratch);
  }
  // After the primitive ran: converts an output bound with bind_output back.
  void finish_output(dnnl::memory theirs, void* data, dnnl::stream& stream) const {
    if (!reorder) return;
    dnnl::memory mine(user, onednn_engine(), data);
    convert.execute(stream, theirs, mine);
  }

 private:
  // Blocked layouts may pad channels up to the block size: size from the desc.
  dnnl::memory scratch_memory(ScratchFloats& scratch) const {
    const size_t floats = (primitive.get_size() + sizeof(float) - 1) / sizeof(float);
    return dnnl::memory(primitive, onednn_engine(), scratch.get(floats));
  }
};

}  // namespace tinyopt::cpu
