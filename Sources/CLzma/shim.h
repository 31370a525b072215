/* liblzma from Debian's liblzma-dev, for reading and writing .xz captures. */
#include <lzma.h>
