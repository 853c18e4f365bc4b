/**
 * Optional runtimes: onnxruntime-node is an optional dependency and node-llama-cpp's binaries are
 * optional packages, so an install may lack them. Code that needs one loads it on first use and,
 * when it is missing, throws MissingDependencyError saying how to install it; `bench` skips the
 * suites that need it.
 */
import type * as Ort from 'onnxruntime-node';
export class MissingDependencyError extends Error {
  override name = 'MissingDependencyError';
  constructor(
    readonly dependency: string,
    message: string,
  ) {
    super(message);
  }
}

/** Whether `error` is Node's "cannot find package" for `specifier` (not a failure inside it). */
export function isPackageNotFound(error: unknown, specifier: string): boolean {
  const e = error as NodeJS.ErrnoException | undefined;
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && typeof e.message === 'string' && e.message.includes(`'${specifier}'`);
}

/** @internal onnxruntime-node, loaded on first use. */
export async function importOnnxRuntime(): Promise<typeof Ort> {
  try {
    return await import('onnxruntime-node');
  } catch (error) {
    if (!isPackageNotFound(error, 'onnxruntime-node')) throw error;
    throw new MissingDependencyError(
      'onnxruntime-node',
      'onnxruntime-node is not installed: scoring an exported ONNX model needs it. It is an optional dependency of dtlns-native; ' +
        'install it next to dtlns-native with `npm install onnxruntime-node` (ONNXRUNTIME_NODE_INSTALL=skip skips its CUDA download, which needs the network)',
    );
  }
}
