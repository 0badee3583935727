package dev.reformer.cuda;

/** A CUDA call failed, or no GPU can run the kernels here; the message names the call and the driver's reason. */
public final class CudaException extends RuntimeException {
    public CudaException(String message) {
        super(message);
    }
}
