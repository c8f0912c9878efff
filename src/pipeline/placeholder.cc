// Placeholder so that the component library exists before its first source.
namespace mh {
int pipeline_placeholder = 0;
}
