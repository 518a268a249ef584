# One image for every service; docker-compose.yml and the Kubernetes manifests pick the entry point per container.

# Build: every dependency (tsx, esbuild, React and GraphiQL, the pinned `node` package the npm
# scripts run on), then `npm run build`: the compiled services (dist/) and the web dashboards'
# bundle (web/dist/<hash>/, with web/dist/current.json naming it). docker-compose.dev.yml runs
# this stage: development builds the dashboards and the GraphQL playground on demand.
FROM node:26.10.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Runtime: the same Node, production dependencies only (no tsx, esbuild, React, GraphiQL or
# TypeScript), the compiled JavaScript, the prebuilt dashboards and the few files the compiled
# services read from their source folders. dist/ points `__dirname` back at the source folders
# (scripts/build.ts), so those files keep their source paths: the SDL and operations, the
# supergraph and the trusted-documents manifest, the landing page and the palette it shares
# with the dashboards. With NODE_ENV=production the gateway serves the bundle current.json
# names and builds nothing (gateway/web-app.ts); without one it does not start. No playground
# in production, so none of its files. Migrations are compiled into dist/ (each database's
# migrationsList). test/dockerfile.test.ts assembles this stage's /app and runs the gateway from it.
FROM node:26.10.0-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --from=build /app/schema ./schema
COPY --from=build /app/gateway/supergraph.graphql /app/gateway/trusted-documents.json ./gateway/
COPY --from=build /app/gateway/landing/index.html ./gateway/landing/
COPY --from=build /app/web/src/palette.css ./web/src/
COPY --from=build /app/web/dist ./web/dist
# docker compose's entry point: each service's secrets from the keys volume (docker-compose.yml).
COPY --from=build /app/scripts/compose-env.sh ./scripts/
USER node
# For docker and compose (Kubernetes uses its own probes): /live on the port of the service
# PID 1 runs, found from its entry point and its port setting (lib/env.ts defaults); a
# one-shot container (migrate, keys) has no port and counts as healthy. No curl in a slim image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["node", "-e", "const c=require('fs').readFileSync('/proc/1/cmdline','utf8');const s=[['dist/gateway/','PORT',4000],['dist/subgraphs/auth/','AUTH_PORT',4001],['dist/subgraphs/tracker/','TRACKER_PORT',4002],['dist/subgraphs/accounting/','ACCOUNTING_PORT',4003],['dist/subgraphs/analytics/','ANALYTICS_PORT',4004],['dist/jobs/index.js','JOBS_PORT',4005]].find(([e])=>c.includes(e));if(!s)process.exit(0);const p=process.env[s[1]]||s[2];fetch('http://127.0.0.1:'+p+'/live',{signal:AbortSignal.timeout(4000)}).then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/gateway/index.js"]
