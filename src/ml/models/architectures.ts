/** The model zoo's architecture names (kept apart from the models so params schemas load without tfjs). */
export const architectures = ['small-cnn', 'resnet18', 'resnet34', 'densenet121', 'mobilenetv2', 'efficientnet-b0', 'csp-nano'] as const;
export type Architecture = (typeof architectures)[number];
