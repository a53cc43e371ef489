/* SPDX-License-Identifier: MIT */
/*
 * Error names and strings, and the per-thread last error (hipGetLastError returns it and
 * resets it to hipSuccess; hipPeekAtLastError only reads it). Only failures are recorded: a
 * successful call does not clear an earlier error, as with CUDA's runtime.
 */
#include "hip_internal.h"

static __thread hipError_t last_error = hipSuccess;

hipError_t hip_ret(hipError_t err)
{
	if (err != hipSuccess && err != hipErrorNotReady)
		last_error = err;
	return err;
}

hipError_t hipGetLastError(void)
{
	hipError_t e = last_error;
	last_error = hipSuccess;
	return e;
}

hipError_t hipPeekAtLastError(void)
{
	return last_error;
}

struct err_text {
	hipError_t code;
	const char *name;
	const char *text;
};

#define E(code, text)                                                                              \
	{                                                                                          \
		code, #code, text                                                                  \
	}
static const struct err_text errors[] = {
	E(hipSuccess, "no error"),
	E(hipErrorInvalidValue, "invalid argument"),
	E(hipErrorOutOfMemory, "out of memory"),
	E(hipErrorNotInitialized, "initialization error"),
	E(hipErrorDeinitialized, "driver shutting down"),
	E(hipErrorInvalidConfiguration, "invalid configuration argument"),
	E(hipErrorInvalidSymbol, "invalid device symbol"),
	E(hipErrorInvalidDevicePointer, "invalid device pointer"),
	E(hipErrorInvalidMemcpyDirection, "invalid copy direction for memcpy"),
	E(hipErrorInsufficientDriver, "driver version is insufficient for runtime version"),
	E(hipErrorMissingConfiguration, "__global__ function call is not configured"),
	E(hipErrorInvalidDeviceFunction, "invalid device function"),
	E(hipErrorNoDevice, "no ROCm-capable device is detected"),
	E(hipErrorInvalidDevice, "invalid device ordinal"),
	E(hipErrorInvalidImage, "device kernel image is invalid"),
	E(hipErrorInvalidContext, "invalid device context"),
	E(hipErrorNoBinaryForGpu, "no kernel image is available for execution on the device"),
	E(hipErrorInvalidKernelFile, "invalid kernel file"),
	E(hipErrorFileNotFound, "file not found"),
	E(hipErrorSharedObjectSymbolNotFound, "shared object symbol not found"),
	E(hipErrorOperatingSystem, "OS call failed or operation not supported on this OS"),
	E(hipErrorInvalidHandle, "invalid resource handle"),
	E(hipErrorIllegalState, "the operation is not permitted in the current state"),
	E(hipErrorNotFound, "named symbol not found"),
	E(hipErrorNotReady, "device not ready"),
	E(hipErrorIllegalAddress, "an illegal memory access was encountered"),
	E(hipErrorLaunchOutOfResources, "too many resources requested for launch"),
	E(hipErrorLaunchFailure, "unspecified launch failure"),
	E(hipErrorNotSupported, "operation not supported"),
	E(hipErrorStreamCaptureUnsupported, "operation not permitted when stream is capturing"),
	E(hipErrorStreamCaptureInvalidated, "operation failed due to a previous error during "
	                                    "capture"),
	E(hipErrorStreamCaptureUnmatched, "capture was not initiated in this stream"),
	E(hipErrorStreamCaptureImplicit, "operation would make the legacy stream depend on a "
	                                 "capturing blocking stream"),
	E(hipErrorCapturedEvent, "operation not permitted on an event last recorded in a "
	                         "capturing stream"),
	E(hipErrorStreamCaptureWrongThread, "attempt to terminate a thread-local capture "
	                                    "sequence from another thread"),
	E(hipErrorUnknown, "unknown error"),
};

static const struct err_text *find(hipError_t code)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].code == code)
			return &errors[i];
	return NULL;
}

const char *hipGetErrorName(hipError_t err)
{
	const struct err_text *e = find(err);
	return e ? e->name : "hipErrorUnknown";
}

const char *hipGetErrorString(hipError_t err)
{
	const struct err_text *e = find(err);
	return e ? e->text : "unknown error";
}
