#!/usr/bin/env node
// Kept outside dist/ so pnpm can link the bin before the package is built.
import "../dist/cli/main.js";
