/// Every primitive layer type, by config name. Adding a layer type = one new file + one line here.
public enum LayerRegistry {
    public static let all: [LayerRegistration] = [
        Conv2D.registration,
        ConvTranspose2D.registration,
        Dense.registration,
        MaxPool2D.registration,
        AvgPool2D.registration,
        GlobalAvgPool.registration,
        GlobalMaxPool.registration,
        MaxUnpool2D.registration,
        Upsample.registration,
        BatchNorm.registration,
        DenseBottleneck.registration,
        LayerNorm.registration,
        LayerNorm2D.registration,
        GroupNorm.registration,
        LocalResponseNorm.registration,
        Dropout.registration,
        DropPath.registration,
        Softmax.registration,
        Flatten.registration,
        Reshape.registration,
        Add.registration,
        Concat.registration,
        Multiply.registration,
        LayerScale.registration,
        ConstantScale.registration,
        PadChannels.registration,
        Embedding.registration,
        SimpleRNN.registration,
        GRU.registration,
        LSTM.registration,
    ] + Activation.registrations

    public static var typeNames: [String] { all.map(\.type) }
}
