#pragma once
// Weights as safetensors (https://github.com/huggingface/safetensors), read and written here
// without the reference library, so that Python tools can open a checkpoint without pickle:
//   [u64 little-endian N][N bytes of JSON header][raw little-endian tensor data]
// The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]}
// (offsets relative to the first data byte) plus an optional "__metadata__" of strings.
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace mg {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Writes atomically (temporary file, fsync, rename). Tensors may live on any device and be
// non-contiguous; names must be unique and non-empty, and "__metadata__" is reserved.
// Supported dtypes: F32, F64, BF16, F16, I64, I32, I16, I8, U8, BOOL.
void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Tensors on the CPU, in file order (by data offset). BadInput, with a message naming the file
// and what is wrong, for a truncated or corrupt file: bad header length, bad JSON, offsets out
// of range, unknown dtype, shape/size mismatch.
NamedTensors load_safetensors(const std::filesystem::path& path,
                              std::map<std::string, std::string>* metadata = nullptr);

// A module's parameters and buffers by their qualified names ("blocks.0.attn.weight"). The
// tensors are detached views of the module's own storage: save them before training on.
NamedTensors module_state(const torch::nn::Module& m);

// Copies `state` into the module's parameters and buffers (converting dtype and device).
// Every name the module has must be present with the same shape, no extra name may be, and
// every floating-point tensor must be finite; otherwise BadInput naming `source` (usually the
// file the state came from) and the tensor.
void load_module_state(torch::nn::Module& m, const NamedTensors& state, const std::string& source);

}  // namespace mg
