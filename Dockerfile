# One image for every service; docker-compose.yml picks the entry point per container.
FROM node:26.10.0-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
# The services run as compiled JavaScript (dist/, README "Scripts"); tsx and esbuild are runtime dependencies.
RUN npm run build
USER node
CMD ["node", "dist/gateway/index.js"]
