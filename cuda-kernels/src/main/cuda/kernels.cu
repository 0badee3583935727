// kernels.cu: the one translation unit nvcc compiles into reformer_kernels.fatbin, so that a
// single module holds every kernel (see build-fatbin.sh). Each included file documents its own
// contract and versions.
#include "bucket_sort.cu"
#include "chunked_attention.cu"
#include "lsh_hash.cu"
