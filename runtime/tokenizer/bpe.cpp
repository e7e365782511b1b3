// BPE over UTF-8 code points (spec §8.4): start from one symbol per code point (or per invalid
// byte), repeatedly merge the adjacent pair with the lowest merge rank (leftmost on ties) using a
// priority queue of candidate pairs, then emit symbol ids, or <0xXX> byte tokens for symbols that
// are not in the vocabulary.
#include <queue>

#include "runtime/tokenizer/tokenizer.h"

namespace tessera {

namespace {

// Length of the UTF-8 sequence at s[i], or 1 for a byte that does not start a valid one.
std::size_t utf8_char_len(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = 1;
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c >= 0xE0 && c <= 0xEF) n = 3;
  else if (c >= 0xF0 && c <= 0xF4) n = 4;
  else return 1;
  if (i + n > s.size()) return 1;
  for (std::size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 1;
  const auto c1 = static_cast<unsigned char>(s[i + 1]);
  if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F))
    return 1;  // overlong, surrogate or beyond U+10FFFF
  return n;
}

struct Symbol {
  std::int32_t id;     // vocabulary id, -1 when the text is not a token
  std::uint32_t start; // byte offset in the run
  std::uint32_t len;   // bytes
  std::int32_t prev;   // index of the previous live symbol, -1 at the start
  std::int32_t next;   // index of the next live symbol, -1 at the end
};

struct Candidate {
  std::int32_t rank;
  std::int32_t left;      // symbol index of the left half
  std::int32_t left_id;   // ids when pushed: a stale candidate no longer matches
  std::int32_t right_id;
  std::int32_t result;
  bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
};

}  // namespace

std::size_t utf8_complete_prefix(std::string_view s) {
  // Look back at most 3 bytes for a lead byte whose sequence is not finished yet.
  const std::size_t n = s.size();
  for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    std::size_t need = 0;
    if (c >= 0xC2 && c <= 0xDF) need = 2;
    else if (c >= 0xE0 && c <= 0xEF) need = 3;
    else if (c >= 0xF0 && c <= 0xF4) need = 4;
    return need > back ? n - back : n;
  }
  return n;
}

void Tokenizer::emit_bytes(std::string_view bytes, std::vector<std::int32_t>& out) const {
  for (char c : bytes) {
    const std::int32_t b = byte_ids_[static_cast<unsigned char>(c)];
    if (b >= 0) out.push_back(b);
    else if (unk_ >= 0) out.push_back(unk_);
    else fail("no byte token <0x" + std::string(1, "0123456789ABCDEF"[(static_cast<unsigned char>(c) >> 4) & 15]) +
              std::string(1, "0123456789ABCDEF"[static_cast<unsigned char>(c) & 15]) + "> and no unknown token");
  }
}

void Tokenizer::encode_bpe(std::string_view run, std::vector<std::int32_t>& out) const {
  if (run.empty()) return;
  std::vector<Symbol> sym;
  sym.reserve(run.size());
  for (std::size_t i = 0; i < run.size();) {
    const std::size_t len = utf8_char_len(run, i);
    const auto idx = static_cast<std::int32_t>(sym.size());
    sym.push_back(Symbol{find(run.substr(i, len)), static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(len),
                         idx - 1, idx + 1});
    i += len;
  }
  sym.back().next = -1;

  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto try_push = [&](std::int32_t left) {
    if (left < 0) return;
    const Symbol& l = sym[static_cast<std::size_t>(left)];
    if (l.next < 0 || l.id < 0) return;
    const Symbol& r = sym[static_cast<std::size_t>(l.next)];
    if (r.id < 0) return;
    auto it = merge_rank_.find(pair_key(l.id, r.id));
    if (it == merge_rank_.end()) return;
    queue.push(Candidate{it->second.rank, left, l.id, r.id, it->second.result});
  };
  for (std::int32_t i = 0; i + 1 < static_cast<std::int32_t>(sym.size()); ++i) try_push(i);

  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& l = sym[static_cast<std::size_t>(c.left)];
    if (l.len == 0 || l.id != c.left_id || l.next < 0) continue;  // merged away or changed
    Symbol& r = sym[static_cast<std::size_t>(l.next)];
    if (r.id != c.right_id) continue;
    l.id = c.result;
    l.len += r.len;
    l.next = r.next;
    if (r.next >= 0) sym[static_cast<std::size_t>(r.next)].prev = c.left;
    r.len = 0;
    r.id = -1;
    try_push(l.prev);
    try_push(c.left);
  }

  for (std::int32_t i = 0; i >= 0; i = sym[static_cast<std::size_t>(i)].next) {
    const Symbol& s = sym[static_cast<std::size_t>(i)];
    if (s.id >= 0) out.push_back(s.id);
    else emit_bytes(run.substr(s.start, s.len), out);
  }
}

}  // namespace tessera
