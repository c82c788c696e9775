#!/usr/bin/env node
// The `meshloop` command. Node 24 runs the TypeScript sources directly (docs/decisions/0002).
import { main } from "../src/main.ts";

process.exitCode = await main(process.argv.slice(2));
