/**
 * CUDA kernels for the two hot spots of LSH attention (a skeleton until its own issue):
 * sorting items by hash bucket, and attention within chunks with one chunk of look-back.
 *
 * <p>Layout to come (llm.c's dev/cuda style): each {@code .cu} source opens with a list of its
 * versions; a plain-Java reference of the same contract lives beside it; one parametrised contract
 * test runs every version against the reference. GPU tests carry the JUnit tag {@code gpu} and
 * skip, saying why, where no device is present. Kernels are launched from Java through JavaCPP.
 */
package dev.reformer.cuda;
