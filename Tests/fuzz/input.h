/* The fuzz input as a stream of bytes, shared by both harnesses: past its end
 * every read is 0, so any input is a complete program. */
#ifndef SCAMEM_FUZZ_INPUT_H
#define SCAMEM_FUZZ_INPUT_H
#include <stddef.h>
#include <stdint.h>

static const uint8_t *in_p;
static size_t in_n;

static uint8_t g8(void)
{
	if (!in_n)
		return 0;
	in_n--;
	return *in_p++;
}
static uint16_t g16(void) { return (uint16_t)(g8() | (uint16_t)g8() << 8); }
static uint32_t g32(void) { return (uint32_t)g16() | (uint32_t)g16() << 16; }
static uint64_t g64(void) { return (uint64_t)g32() | (uint64_t)g32() << 32; }
#endif
