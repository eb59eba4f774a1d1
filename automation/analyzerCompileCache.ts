/**
 * Preloaded into the policy analyzer (NODE_OPTIONS=--import, set for every
 * pulumi process the automation layer starts): writes Node's compile cache as
 * soon as the pack is loaded. policies/analyzer turns the cache on, but Node
 * writes it only at a normal exit, and the engine kills its analyzer, so the
 * cache stayed empty and every preview and up compiled @pulumi/pulumi afresh.
 * The pack prints its port once loaded: that first write is the moment.
 */
import module from "node:module";

if (module.getCompileCacheDir?.()) {
  const write = process.stdout.write;
  process.stdout.write = function (this: NodeJS.WriteStream, ...args: Parameters<typeof write>) {
    process.stdout.write = write;
    const written = write.apply(this, args);
    module.flushCompileCache();
    return written;
  } as typeof write;
}
