// SHA-256 of a byte range, for the provenance line in logs (which exact model file was run).
#ifndef UMA_MODEL_SHA256_H
#define UMA_MODEL_SHA256_H

#include <cstddef>
#include <string>

namespace uma {
std::string sha256_hex(const unsigned char* data, size_t size);
}

#endif
