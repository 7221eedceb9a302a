/** Connection states reported through the server's and client's `status` stream. */
export enum RedisStreamsStatus {
  CONNECTED = 'connected',
  RECONNECTING = 'reconnecting',
  DISCONNECTED = 'disconnected',
}
