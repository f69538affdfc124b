/**
 * Re-export of jax-js for the library. Import jax-js only through here: the first import
 * below prepares Node (worker threads, navigator) before jax-js builds its wasm backend.
 */
import "./node-setup.js";
export { numpy as np, nn, lax, random, tree, grad, valueAndGrad, vjp, jit, blockUntilReady, init, defaultDevice } from "@jax-js/jax";
export type { Array as JArray, DType } from "@jax-js/jax";
