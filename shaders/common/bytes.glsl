// Byte-addressed reads from a uint[] storage buffer, so quantized blocks (18, 34, 210 bytes...)
// can be read on devices without 8/16-bit storage. Expects `uint WORDS[]` to be #defined to the
// buffer's array before inclusion.
#ifndef TESSERA_BYTES_GLSL
#define TESSERA_BYTES_GLSL

uint read_u8(uint byte_off) { return (WORDS[byte_off >> 2] >> ((byte_off & 3u) * 8u)) & 0xffu; }

int read_i8(uint byte_off) { return int(read_u8(byte_off) << 24) >> 24; }

uint read_u16(uint byte_off) { return read_u8(byte_off) | (read_u8(byte_off + 1u) << 8); }

uint read_u32(uint byte_off) { return read_u16(byte_off) | (read_u16(byte_off + 2u) << 16); }

float read_f16(uint byte_off) { return unpackHalf2x16(read_u16(byte_off)).x; }

float read_bf16(uint byte_off) { return uintBitsToFloat(read_u16(byte_off) << 16); }

#endif
