// SPIR-V word walker for push-constant size, workgroup size and bindings (see spirv_reflect.h).
#include "engine/spirv_reflect.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <unordered_map>

#include "engine/error.h"

namespace tessera {
namespace {

// Opcodes, decorations and storage classes from the SPIR-V specification.
enum Op : std::uint32_t {
  kOpExecutionMode = 16,
  kOpCapability = 17,
  kOpTypeBool = 20,
  kOpTypeInt = 21,
  kOpTypeFloat = 22,
  kOpTypeVector = 23,
  kOpTypeMatrix = 24,
  kOpTypeArray = 28,
  kOpTypeRuntimeArray = 29,
  kOpTypeStruct = 30,
  kOpTypePointer = 32,
  kOpConstant = 43,
  kOpConstantComposite = 44,
  kOpSpecConstant = 50,
  kOpSpecConstantComposite = 51,
  kOpVariable = 59,
  kOpDecorate = 71,
  kOpMemberDecorate = 72,
  kOpExecutionModeId = 331,
};
enum Decoration : std::uint32_t {
  kSpecId = 1,
  kBufferBlock = 3,
  kArrayStride = 6,
  kMatrixStride = 7,
  kBuiltIn = 11,
  kBinding = 33,
  kDescriptorSet = 34,
  kOffset = 35,
};
constexpr std::uint32_t kModeLocalSize = 17, kModeLocalSizeId = 38;
constexpr std::uint32_t kBuiltInWorkgroupSize = 25;
constexpr std::uint32_t kClassUniformConstant = 0, kClassUniform = 2, kClassWorkgroup = 4, kClassPushConstant = 9,
                        kClassStorageBuffer = 12;
constexpr std::uint32_t kNone = 0xffffffffu;

struct Type {
  std::uint32_t op = 0;
  std::uint32_t a = 0;  // Int/Float: width; Vector/Matrix/Array: element type; Pointer: storage class
  std::uint32_t b = 0;  // Vector/Matrix: count; Array: length constant id; Pointer: pointee
  std::vector<std::uint32_t> members;  // Struct
};

struct Member {
  std::uint32_t offset = kNone;
  std::uint32_t matrix_stride = 0;
};

class Walker {
 public:
  Walker(std::span<const std::uint32_t> words, std::string_view name) : words_(words), name_(name) {}

  SpirvReflection run() {
    if (words_.size() < 5 || words_[0] != 0x07230203u) fail("not SPIR-V (bad magic or too short)");
    for (std::size_t i = 5; i < words_.size();) {
      const std::uint32_t count = words_[i] >> 16, op = words_[i] & 0xffffu;
      if (count == 0 || i + count > words_.size()) fail("truncated instruction at word " + std::to_string(i));
      const std::span<const std::uint32_t> w = words_.subspan(i + 1, count - 1);
      auto arg = [&](std::size_t k) {
        if (k >= w.size()) fail("instruction " + std::to_string(op) + " too short at word " + std::to_string(i));
        return w[k];
      };
      switch (op) {
        case kOpTypeBool: types_[arg(0)] = {op, 32, 0, {}}; break;
        case kOpTypeInt:
        case kOpTypeFloat: types_[arg(0)] = {op, arg(1), 0, {}}; break;
        case kOpTypeVector:
        case kOpTypeMatrix:
        case kOpTypeArray: types_[arg(0)] = {op, arg(1), arg(2), {}}; break;
        case kOpTypeRuntimeArray: types_[arg(0)] = {op, arg(1), 0, {}}; break;
        case kOpTypeStruct: types_[arg(0)] = {op, 0, 0, {w.begin() + 1, w.end()}}; break;
        case kOpTypePointer: types_[arg(0)] = {op, arg(1), arg(2), {}}; break;
        case kOpConstant:
        case kOpSpecConstant: constants_[arg(1)] = arg(2); break;
        case kOpConstantComposite:
        case kOpSpecConstantComposite: composites_[arg(1)] = {w.begin() + 2, w.end()}; break;
        case kOpCapability: capabilities_.push_back(arg(0)); break;
        case kOpVariable:
          if (arg(2) == kClassPushConstant) push_vars_.push_back(arg(0));
          if (arg(2) == kClassWorkgroup) shared_vars_.push_back(arg(0));
          if (arg(2) == kClassStorageBuffer || arg(2) == kClassUniform || arg(2) == kClassUniformConstant)
            buffer_vars_.emplace_back(arg(0), arg(1));
          break;
        case kOpDecorate: decorate(arg(0), arg(1), w.size() > 2 ? w[2] : 0); break;
        case kOpMemberDecorate:
          if (arg(2) == kOffset) members_[key(arg(0), arg(1))].offset = arg(3);
          if (arg(2) == kMatrixStride) members_[key(arg(0), arg(1))].matrix_stride = arg(3);
          break;
        case kOpExecutionMode:
          if (arg(1) == kModeLocalSize) local_size_ = {arg(2), arg(3), arg(4)};
          break;
        case kOpExecutionModeId:
          if (arg(1) == kModeLocalSizeId) local_size_ids_ = {arg(2), arg(3), arg(4)};
          break;
        default: break;
      }
      i += count;
    }

    return result();
  }

 private:
  // What the instructions collected mean: sizes, bindings, workgroup size.
  SpirvReflection result() const {
    SpirvReflection r;
    for (std::uint32_t ptr : push_vars_) r.push_constant_bytes = std::max(r.push_constant_bytes, size_of(pointee(ptr), 0, 0));
    for (std::uint32_t ptr : shared_vars_) r.shared_memory_bytes += size_of(pointee(ptr), 0, 0);
    r.capabilities = capabilities_;
    std::sort(r.capabilities.begin(), r.capabilities.end());
    for (auto [ptr, var] : buffer_vars_) {
      auto b = bindings_.find(var);
      if (b == bindings_.end()) continue;
      SpirvBinding sb;
      sb.binding = b->second;
      if (auto s = sets_.find(var); s != sets_.end()) sb.set = s->second;
      std::uint32_t t = pointee(ptr);
      for (auto it = types_.find(t); it != types_.end() && (it->second.op == kOpTypeArray || it->second.op == kOpTypeRuntimeArray);
           it = types_.find(t))
        t = it->second.a;
      const std::uint32_t cls = types_.at(ptr).a;
      sb.storage_buffer = cls == kClassStorageBuffer || (cls == kClassUniform && buffer_blocks_.count(t));
      r.bindings.push_back(sb);
    }
    std::sort(r.bindings.begin(), r.bindings.end(),
              [](const SpirvBinding& x, const SpirvBinding& y) { return std::tie(x.set, x.binding) < std::tie(y.set, y.binding); });
    for (const auto& [id, spec] : spec_ids_) r.spec_ids.push_back(spec);
    std::sort(r.spec_ids.begin(), r.spec_ids.end());

    // Workgroup size: the WorkgroupSize built-in wins over LocalSizeId, which wins over LocalSize.
    r.local_size = local_size_;
    std::array<std::uint32_t, 3> ids{kNone, kNone, kNone};
    if (workgroup_size_id_ != kNone) {
      auto c = composites_.find(workgroup_size_id_);
      if (c == composites_.end() || c->second.size() != 3) fail("WorkgroupSize is not a 3-component constant");
      for (int d = 0; d < 3; ++d) ids[d] = c->second[d];
    } else if (local_size_ids_[0] != kNone) {
      ids = local_size_ids_;
    }
    for (int d = 0; d < 3; ++d) {
      if (ids[d] == kNone) continue;
      r.local_size[d] = constant(ids[d]);
      if (auto s = spec_ids_.find(ids[d]); s != spec_ids_.end()) r.local_size_spec_id[d] = s->second;
    }
    return r;
  }

  [[noreturn]] void fail(const std::string& what) const { throw Error("[spirv] " + std::string(name_) + ": " + what); }

  static std::uint64_t key(std::uint32_t s, std::uint32_t m) { return (std::uint64_t{s} << 32) | m; }

  void decorate(std::uint32_t id, std::uint32_t dec, std::uint32_t value) {
    switch (dec) {
      case kSpecId: spec_ids_[id] = value; break;
      case kBufferBlock: buffer_blocks_[id] = true; break;
      case kArrayStride: array_strides_[id] = value; break;
      case kBuiltIn:
        if (value == kBuiltInWorkgroupSize) workgroup_size_id_ = id;
        break;
      case kBinding: bindings_[id] = value; break;
      case kDescriptorSet: sets_[id] = value; break;
      default: break;
    }
  }

  std::uint32_t constant(std::uint32_t id) const {
    auto it = constants_.find(id);
    if (it == constants_.end()) fail("id " + std::to_string(id) + " is not a scalar constant");
    return it->second;
  }

  std::uint32_t pointee(std::uint32_t ptr) const {
    auto it = types_.find(ptr);
    if (it == types_.end() || it->second.op != kOpTypePointer) fail("variable type " + std::to_string(ptr) + " is not a pointer");
    return it->second.b;
  }

  // Bytes a value of `type` occupies in an explicitly laid-out block.
  std::uint32_t size_of(std::uint32_t id, std::uint32_t matrix_stride, int depth) const {
    if (depth > 32) fail("type nesting too deep");
    auto it = types_.find(id);
    if (it == types_.end()) fail("unknown type id " + std::to_string(id));
    const Type& t = it->second;
    switch (t.op) {
      case kOpTypeBool: return 4;
      case kOpTypeInt:
      case kOpTypeFloat: return t.a / 8;
      case kOpTypeVector: return t.b * size_of(t.a, 0, depth + 1);
      case kOpTypeMatrix: return t.b * (matrix_stride ? matrix_stride : size_of(t.a, 0, depth + 1));
      case kOpTypeArray: {
        auto s = array_strides_.find(id);
        const std::uint32_t stride = s != array_strides_.end() ? s->second : size_of(t.a, matrix_stride, depth + 1);
        return constant(t.b) * stride;
      }
      case kOpTypeRuntimeArray: return 0;
      case kOpTypePointer: return 8;  // physical storage buffer address
      case kOpTypeStruct: {
        std::uint32_t end = 0, packed = 0;
        for (std::uint32_t m = 0; m < t.members.size(); ++m) {
          Member md;
          if (auto mi = members_.find(key(id, m)); mi != members_.end()) md = mi->second;
          const std::uint32_t sz = size_of(t.members[m], md.matrix_stride, depth + 1);
          const std::uint32_t off = md.offset != kNone ? md.offset : packed;
          end = std::max(end, off + sz);
          packed = off + sz;
        }
        return end;
      }
      default: fail("type id " + std::to_string(id) + " (opcode " + std::to_string(t.op) + ") has no size");
    }
  }

  std::span<const std::uint32_t> words_;
  std::string_view name_;
  std::vector<std::uint32_t> push_vars_;                              // pointer types
  std::vector<std::uint32_t> shared_vars_;                            // pointer types of Workgroup variables
  std::vector<std::uint32_t> capabilities_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> buffer_vars_;  // (pointer type, variable)
  std::unordered_map<std::uint32_t, Type> types_;
  std::unordered_map<std::uint32_t, std::uint32_t> constants_;
  std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> composites_;
  std::unordered_map<std::uint64_t, Member> members_;
  std::unordered_map<std::uint32_t, std::uint32_t> spec_ids_, array_strides_, bindings_, sets_;
  std::unordered_map<std::uint32_t, bool> buffer_blocks_;
  std::uint32_t workgroup_size_id_ = kNone;
  std::array<std::uint32_t, 3> local_size_{1, 1, 1};
  std::array<std::uint32_t, 3> local_size_ids_{kNone, kNone, kNone};
};

}  // namespace

std::uint32_t SpirvReflection::binding_count() const {
  std::uint32_t n = 0;
  for (const SpirvBinding& b : bindings)
    if (b.set == 0) n = std::max(n, b.binding + 1);
  return n;
}

std::array<std::uint32_t, 3> SpirvReflection::resolve_local_size(std::span<const std::uint32_t> spec_values) const {
  std::array<std::uint32_t, 3> out = local_size;
  for (int d = 0; d < 3; ++d)
    if (local_size_spec_id[d] != kNoSpecId && local_size_spec_id[d] < spec_values.size())
      out[d] = spec_values[local_size_spec_id[d]];
  return out;
}

SpirvReflection reflect_spirv(std::span<const std::uint32_t> words, std::string_view name) {
  return Walker(words, name).run();
}

}  // namespace tessera
