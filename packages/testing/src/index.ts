export * from './handler-window.js'
