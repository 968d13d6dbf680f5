/// A first-order optimizer over the executor's flat parameter and gradient arenas (llm.c
/// style: one loop per parameter group, no per-tensor objects).
///
/// Implementations follow the update rules of `torch.optim` exactly
/// (https://pytorch.org/docs/stable/optim.html). A step skips frozen groups and running
/// statistics (`ParameterGroup.isUpdated`) and applies weight decay only where
/// `ParameterGroup.decay` is set. State arrays (moments) span the whole arena and are allocated
/// once: at construction when the arena size is given, else on the first step or `restore`.
public protocol Optimizer: AnyObject {
    /// Updates `parameters` in place from `gradients` with learning rate `lr` (the schedule's
    /// value for this step) and increments `stepCount`.
    func step(parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
              groups: [ParameterGroup], lr: Float)
    /// Steps taken (Adam's bias correction uses it). Not part of `stateTensors`: a checkpoint
    /// stores it beside them and sets it after `restore`.
    var stepCount: Int { get set }
    /// The state to checkpoint, arena-sized arrays named `optimizer.<PyTorch state name>`
    /// (`optimizer.exp_avg`); no arrays for plain SGD, empty arrays while a fresh optimizer
    /// made without a parameter count has allocated nothing.
    func stateTensors() -> [(name: String, values: [Float])]
    /// Restores what `stateTensors` returned. Throws `TrainingStateError` when a tensor is
    /// missing or the arrays disagree in size (with each other or with the allocated state).
    func restore(_ tensors: [String: [Float]]) throws
}
